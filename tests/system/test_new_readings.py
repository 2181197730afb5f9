"""CPU, storage and network: pure parsers on sample tables, services against the fixture tree,
the address reader against this machine's real kernel."""

from __future__ import annotations

import pytest

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.readings.registry import reading_delta
from system import declarations, parsers
from system.hardware import host
from tests.helpers import http_get, websocket
from tests.system.fake_netlink import PI_ADDRESSES, address_message, done, kernel_addresses

# --- CPU -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "loads"),
    [
        ("0.52 0.58 0.59 1/389 12345\n", (0.52, 0.58, 0.59)),
        ("12.00 3.5 0 9/206 1\n", (12.0, 3.5, 0.0)),
    ],
)
def test_it_reads_the_load_averages(text, loads):
    assert parsers.parse_loadavg(text) == loads


@pytest.mark.parametrize("text", ["", "0.52 0.58\n", "a b c 1/1 1\n"])
def test_a_load_average_that_is_not_one_says_so(text):
    with pytest.raises(ValueError, match="expected three load averages"):
        parsers.parse_loadavg(text)


STAT_BEFORE = "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\nintr 1\n"
STAT_AFTER = (
    "cpu  250 0 150 900 100 0 0 0 0 0\ncpu0 150 0 100 400 50 0 0 0 0 0\ncpu1 100 0 50 500 50 0 0 0 0 0\nintr 1\n"
)


def test_usage_is_the_busy_share_of_the_ticks_between_two_reads_iowait_counting_as_idle():
    before = parsers.cpu_snapshot(stat=STAT_BEFORE, loadavg="1 2 3 1/1 1")
    after = parsers.cpu_snapshot(stat=STAT_AFTER, loadavg="1 2 3 1/1 1")
    cpu = parsers.cpu_usage(before, after, 2.0)
    # all: 400 ticks, 200 busy (150 user + 50 system), 200 idle (100 idle + 100 iowait)
    assert cpu.usage_percent == 50.0
    assert cpu.cores == {"cpu0": 75.0, "cpu1": 25.0}
    assert cpu.sampled_seconds == 2.0
    since_boot = parsers.cpu_usage(None, before, 0.0)
    assert since_boot.usage_percent == 20.0
    assert since_boot.sampled_seconds is None


def test_proc_stat_without_a_cpu_line_is_refused():
    with pytest.raises(ValueError, match="no cpu line"):
        parsers.parse_proc_stat("intr 1\nctxt 2\n")


def test_the_delta_service_keeps_one_baseline_and_never_sleeps():
    now = [100.0]
    texts = iter([STAT_BEFORE, STAT_AFTER])
    service = reading_delta(
        "CPU load",
        lambda: next(texts),
        lambda text: parsers.cpu_snapshot(stat=text, loadavg="1 2 3 1/1 1"),
        parsers.cpu_usage,
        clock=lambda: now[0],
    )
    first = service()
    assert first.sampled_seconds is None
    now[0] += 0.1  # too soon: the same answer, the file is not read again (next(texts) would be STAT_AFTER)
    assert service() is first
    now[0] += 1.9
    assert service().usage_percent == 50.0


def test_a_missing_proc_stat_is_the_readings_failure(host_root):
    host_root.remove("proc/stat")
    with pytest.raises(ReadingFailed, match=r"^Failed to query CPU load: No such file or directory$"):
        declarations.CPU.read()


# --- storage -------------------------------------------------------------------------------------


def test_statvfs_figures_are_counted_as_df_counts_them():
    fs = parsers.file_system(path="/", fragment_size=4096, blocks=1000, blocks_free=300, blocks_available=250)
    assert (fs.size_bytes, fs.used_bytes, fs.free_bytes) == (4_096_000, 2_867_200, 1_024_000)


def test_impossible_statvfs_figures_are_refused():
    with pytest.raises(ValueError, match="makes no sense"):
        parsers.file_system(path="/", fragment_size=4096, blocks=10, blocks_free=20, blocks_available=5)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("  179314 5311 9812170 263424 123456 98765 4567890 1234567 0 347916 1497991 0 0 0 0 0 0\n", 4567890 * 512),
        ("1 2 3 4 5 6 7 8 9 10 11\n", 7 * 512),  # kernels before 4.18: 11 fields
    ],
)
def test_the_sd_cards_writes_are_its_sectors_written(text, written):
    assert parsers.parse_block_stat(text) == written


@pytest.mark.django_db(transaction=True)
async def test_storage_reads_the_root_and_the_data_directory_and_no_sd_card_is_null(host_root):
    status, body = await http_get("/system/storage")
    assert status == 200
    assert body["sdWrittenBytes"] == 4567890 * 512
    assert set(body["root"]) == {"path", "sizeBytes", "usedBytes", "freeBytes"}
    assert body["root"]["path"] == str(host_root.root)
    assert 0 < body["root"]["freeBytes"] <= body["root"]["sizeBytes"]
    host_root.remove("sys/block/mmcblk0/stat")  # booted from USB or NVMe
    status, body = await http_get("/system/storage")
    assert (status, body["sdWrittenBytes"]) == (200, None)


# --- network -------------------------------------------------------------------------------------


def test_proc_net_dev_gives_bytes_received_and_sent():
    text = (
        "Inter-|   Receive      |  Transmit\n face |bytes ...\n"
        "    lo:   51420     620    0    0    0     0     0     0    51420     620    0    0    0     0     0  0\n"
        "  eth0: 184467440  190231    0    0    0     0          0       412 21234567   98765    0    0    0  0  0  0\n"
    )
    assert parsers.parse_net_dev(text) == {"lo": (51420, 51420), "eth0": (184467440, 21234567)}


def test_the_kernels_address_dump_gives_each_interfaces_addresses():
    addresses, complete = parsers.parse_netlink_addresses(PI_ADDRESSES)
    assert complete
    assert [(a.index, a.address, a.scope) for a in addresses] == [
        (1, "127.0.0.1/8", 254),
        (2, "192.168.1.5/24", 0),
        (1, "::1/128", 254),
        (2, "fd00::5/64", 0),
        (2, "fe80::dea6:32ff:fe01:2345/64", 253),
    ]


def test_a_point_to_point_link_is_its_local_address_not_its_peers():
    [address], complete = parsers.parse_netlink_addresses(
        address_message(5, "10.8.0.2/32", peer="10.8.0.1", label="tun0")
    )
    assert (address.address, complete) == ("10.8.0.2/32", False)


def test_the_real_kernel_answers_the_same_way():
    """This machine's own kernel (no fake): loopback has 127.0.0.1/8, and the dump ends."""
    assert host.read_netlink_addresses is not kernel_addresses  # the fixture's fake, in every other test
    addresses, complete = parsers.parse_netlink_addresses(kernel_addresses())
    assert complete
    assert "127.0.0.1/8" in [address.address for address in addresses]


def test_rates_are_bytes_per_second_between_reads_and_null_after_a_counter_reset():
    links = {"eth0": parsers.Link(index=2, state="up", mac="dc:a6:32:01:23:45")}
    addresses, _ = parsers.parse_netlink_addresses(PI_ADDRESSES)
    before = parsers.NetworkSnapshot(links=links, counters={"eth0": (1000, 500)}, addresses=addresses)
    after = parsers.NetworkSnapshot(links=links, counters={"eth0": (3000, 400)}, addresses=addresses)
    network = parsers.network_rates(before, after, 2.0)
    assert network.interfaces["eth0"].rx_bytes_per_second == 1000.0
    assert network.interfaces["eth0"].tx_bytes_per_second is None  # went back: the interface was reset
    assert network.address == "192.168.1.5"
    assert network.interfaces["eth0"].addresses == ["192.168.1.5/24", "fd00::5/64", "fe80::dea6:32ff:fe01:2345/64"]


def test_without_ipv4_the_address_to_bookmark_is_a_global_ipv6_one_and_never_loopback():
    links = {"lo": parsers.Link(1, "unknown", None), "eth0": parsers.Link(2, "up", None)}
    addresses, _ = parsers.parse_netlink_addresses(
        address_message(1, "127.0.0.1/8", scope=254) + address_message(2, "fd00::5/64") + done()
    )
    assert parsers.network_rates(None, parsers.NetworkSnapshot(links, {}, addresses), 0).address == "fd00::5"
    down = {"eth0": parsers.Link(2, "down", None)}
    assert parsers.network_rates(None, parsers.NetworkSnapshot(down, {}, addresses), 0).address is None


@pytest.mark.django_db(transaction=True)
async def test_the_network_reading_over_rest_and_websocket():
    status, body = await http_get("/system/network")
    assert status == 200
    assert body["address"] == "192.168.1.5"
    assert body["interfaces"]["eth0"] == {
        "state": "up",
        "mac": "dc:a6:32:01:23:45",
        "addresses": ["192.168.1.5/24", "fd00::5/64", "fe80::dea6:32ff:fe01:2345/64"],
        "rxBytes": 184467440,
        "txBytes": 21234567,
        "rxBytesPerSecond": None,
        "txBytesPerSecond": None,
    }
    assert body["interfaces"]["lo"]["mac"] is None
    async with websocket() as client:
        reply = await client.request("READ_NETWORK")
    assert reply["data"]["address"] == "192.168.1.5"
