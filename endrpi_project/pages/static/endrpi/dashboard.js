// Endrpi dashboard: reads and drives the Pi over the WebSocket API at "/".
//
// Nothing is polled. On every connection the page SUBSCRIBEs to the pins, the readings and the
// history (see TOPICS); each SUBSCRIBE reply carries the topic's current value and every later change
// arrives as a passive message, so the page shows a change made anywhere (another browser, REST, an
// input edge) as soon as the server publishes it. When the connection drops the page reconnects on
// its own (at most ~1 s apart, so it is back within ~1 s of the server) and subscribes again: the
// replies carry the state as it is now, so nothing missed while offline stays missed. The history
// charts load the chosen range once per connection (READ_HISTORY, READ_EVENTS) and then grow from
// the HISTORY and EVENTS topics.
"use strict";

(() => {
  const REQUEST_TIMEOUT_MS = 8000;
  const BACKOFF_FIRST_MS = 250;
  const BACKOFF_MAX_MS = 1000;
  const RESUBSCRIBE_AFTER_MS = 5000; // a topic whose current value could not be read is tried again
  // Hook for token authentication: a token kept here is offered as the WebSocket subprotocol
  // "endrpi.token.<token>", after "endrpi" (the one the server echoes). Without one it connects as always.
  const TOKEN_STORAGE_KEY = "endrpi.token";
  const RANGE_STORAGE_KEY = "endrpi.historyRange";

  const PIN_READ = "READ_PIN_CONFIGURATIONS";
  const PIN_UPDATE = "UPDATE_PIN_CONFIGURATIONS";
  // The reading cards, as the server's declarations describe them (pages/cards.py): per topic, how to
  // subscribe and each value's path into the reading, its format and its element.
  const CARDS = JSON.parse(document.getElementById("reading-cards").textContent);
  // The history charts the declarations add under temperature and clocks (memory, CPU): the mean of
  // each series, printed in its format (pages/cards.py, chart_specs).
  const CHARTS = JSON.parse(document.getElementById("history-charts").textContent);
  const chartKey = (chart, key) => `x:${chart.id}:${key}`;
  // A series with one known value has no line to draw (a fresh install's first minutes): draw its point
  // as a dot instead of leaving empty axes. uPlot calls points.show(u, seriesIndex) each redraw.
  const lonePoint = (u, index) => u.data[index].filter((value) => value !== null && value !== undefined).length < 2;
  const CHART_COLOURS = ["#4fd1a5", "#f2c94c", "#5cb8ff", "#ff8a5c"];
  // What the page subscribes to, and with which params. Readings that change rarely are sent
  // only when they change; uptime ticks every second anyway.
  const TOPICS = {
    PINS: {},
    ...Object.fromEntries(Object.entries(CARDS).map(([topic, card]) => [topic, card.subscribe])),
    PIN_SETTINGS: {}, // labels and locks, pushed when they are saved in Settings (the admin)
    THROTTLE: { intervalMs: 500, onChange: true },
    HISTORY: {},
    EVENTS: {},
  };
  const RANGES = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
  const PWM_SEND_EVERY_MS = 80; // while a duty slider is dragged

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const phoneLayout = window.matchMedia("(max-width: 760px)");

  // --- Connection: one WebSocket, requests matched to replies by id, reconnect with backoff ------

  class Connection {
    constructor(url, { onOpen, onClose, onUnmatched }) {
      this.url = url;
      this.onOpen = onOpen;
      this.onClose = onClose;
      this.onUnmatched = onUnmatched;
      this.nextId = 1;
      this.pending = new Map();
      this.attempt = 0;
      this.socket = null;
      this.retryTimer = null;
    }

    get open() {
      return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
    }

    connect() {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      let token = null;
      try {
        token = window.localStorage.getItem(TOKEN_STORAGE_KEY);
      } catch (error) {
        token = null; // storage unavailable (private mode): connect without a token
      }
      const socket = token ? new WebSocket(this.url, ["endrpi", `endrpi.token.${token}`]) : new WebSocket(this.url);
      this.socket = socket;
      socket.addEventListener("open", () => {
        this.attempt = 0;
        this.onOpen();
      });
      socket.addEventListener("message", (event) => this.receive(event.data));
      socket.addEventListener("close", () => {
        if (this.socket !== socket) return;
        this.socket = null;
        this.failPending("The connection to the server was lost");
        const delay = this.backoff();
        this.attempt += 1;
        this.retryTimer = setTimeout(() => this.connect(), delay);
        this.onClose({ delay, attempt: this.attempt });
      });
    }

    retryNow() {
      if (this.socket === null) this.connect();
    }

    backoff() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
      return Math.round(base * (0.8 + Math.random() * 0.4));
    }

    receive(text) {
      let envelope;
      try {
        envelope = JSON.parse(text);
      } catch (error) {
        return;
      }
      const waiting = envelope !== null && this.pending.get(envelope.id);
      if (waiting) {
        this.pending.delete(envelope.id);
        clearTimeout(waiting.timer);
        waiting.resolve(envelope);
      } else {
        this.onUnmatched(envelope);
      }
    }

    // Resolves with the reply envelope (successful or not); rejects only when no reply can come.
    request(action, params) {
      if (!this.open) return Promise.reject(new Error("Not connected to the server"));
      const id = this.nextId++;
      const message = params === undefined ? { action, id } : { action, params, id };
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${action}: no reply within ${REQUEST_TIMEOUT_MS / 1000} s`));
        }, REQUEST_TIMEOUT_MS);
        this.pending.set(id, { resolve, reject, timer });
        this.socket.send(JSON.stringify(message));
      });
    }

    failPending(reason) {
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new Error(reason));
      }
      this.pending.clear();
    }
  }

  // --- Formatting --------------------------------------------------------------------------------

  const pins = new Map(); // "GPIO17" -> last PinConfiguration
  let selectedPin = null;
  let editorBase = null; // the configuration the editor's fields were filled from
  let editorApplying = false; // our own Apply is on its way: the change it brings is not news

  const number = (value, digits) =>
    value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });

  function kilobytes(quantity) {
    const units = ["kB", "MB", "GB", "TB"];
    let value = quantity;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${number(value, value < 10 && unit > 0 ? 2 : value < 100 && unit > 0 ? 1 : 0)} ${units[unit]}`;
  }

  function bytes(quantity) {
    return quantity < 1024 ? `${number(quantity, 0)} B` : kilobytes(quantity / 1024);
  }

  // How a card prints a value (the declarations' CardValue.format).
  const FORMATS = {
    decimal0: (value) => number(value, 0),
    decimal1: (value) => number(value, 1),
    decimal2: (value) => number(value, 2),
    megahertz: (value) => number(value / 1e6, 0),
    kilobytes: (value) => kilobytes(value),
    bytes: (value) => bytes(value),
    bytesPerSecond: (value) => `${bytes(value)}/s`,
    percent: (value) => `${number(value, 0)}%`,
    text: (value) => String(value),
    measurement: (value) => measurementText(value),
    error: (value) => String(value),
    // An address as this page's own URL on it (IPv6 in brackets), the one to bookmark.
    bookmark: (value) =>
      `${window.location.protocol}//${String(value).includes(":") ? `[${value}]` : value}${window.location.port ? `:${window.location.port}` : ""}/`,
  };

  // A Measurement ({quantity, unitOfMeasurement}) with its unit's symbol: "21.6 °C", "1008.3 hPa".
  const SYMBOLS = { CELSIUS: "°C", PERCENT: "%", HECTOPASCAL: "hPa", REVOLUTIONS_PER_MINUTE: "rpm" };

  function measurementText(value) {
    if (!value || typeof value.quantity !== "number") return "—";
    const unit = value.unitOfMeasurement;
    const digits = unit === "REVOLUTIONS_PER_MINUTE" ? 0 : 1;
    return `${number(value.quantity, digits)} ${SYMBOLS[unit] || unit || ""}`.trim();
  }

  // "systemOnChip.quantity" into a reading's wire form; undefined where a step is missing.
  function pick(data, path) {
    if (!path) return data;
    let value = data;
    for (const step of path.split(".")) {
      if (value === null || value === undefined) return undefined;
      value = value[step];
    }
    return value;
  }

  function cardNumber(data, path, minus) {
    const value = pick(data, path);
    if (!minus) return value;
    const less = pick(data, minus);
    return typeof value === "number" && typeof less === "number" ? value - less : undefined;
  }

  function cardText(spec, data) {
    const value = cardNumber(data, spec.path, spec.minus);
    if (value === null || value === undefined) return "—";
    return (FORMATS[spec.format] || FORMATS.text)(value);
  }

  // An address to bookmark as pieces with a <wbr> between them, so it breaks after "//", before the
  // ":port" and between an IPv6 address's groups, never inside a number ("http://192.0.2.|2:5000/");
  // copying it copies no break.
  function breakable(text) {
    const parts = /^([a-z]+:\/\/)(\[[^\]]*\]|[^/:]*)(:\d+)?(\/.*)?$/.exec(text);
    if (!parts) return [text];
    const host = parts[2].startsWith("[") ? parts[2].split(/(?<=:)/) : [parts[2]];
    const pieces = [parts[1], ...host, `${parts[3] || ""}${parts[4] || ""}`].filter((piece) => piece);
    return pieces.flatMap((piece, index) => (index === 0 ? [piece] : [document.createElement("wbr"), piece]));
  }

  // The renderer of a reading's card: each value into its element, the meter, and the rows of a map.
  function cardRenderer(topic, card) {
    return (data) => {
      for (const spec of card.values) {
        const element = document.getElementById(spec.element);
        if (element && spec.format === "bookmark") element.replaceChildren(...breakable(cardText(spec, data)));
        else if (element) element.textContent = cardText(spec, data);
      }
      if (card.meter) {
        const value = cardNumber(data, card.meter.path, card.meter.minus);
        const of = typeof card.meter.of === "number" ? card.meter.of : pick(data, card.meter.of);
        const element = document.getElementById(card.meter.element);
        if (element && typeof value === "number" && typeof of === "number") meter(element, of > 0 ? value / of : 0);
      }
      if (card.rows) {
        const target = document.querySelector(`[data-topic="${topic}"] [data-rows]`);
        const entries = pick(data, card.rows.path) || {};
        if (target) {
          target.replaceChildren(
            ...Object.entries(entries).map(([name, entry]) => {
              const item = document.createElement("li");
              const title = document.createElement("b");
              const titled = (card.rows.title || []).map((path) => pick(entry, path)).find((text) => text);
              title.textContent = titled || name;
              item.append(title);
              for (const spec of card.rows.values) {
                const part = document.createElement("span");
                part.dataset.path = spec.path;
                if (spec.format === "error") {
                  // Only a row whose reading failed says why.
                  const message = pick(entry, spec.path);
                  if (!message) continue;
                  part.className = "card-row-error";
                }
                part.textContent = `${spec.label ? `${spec.label} ` : ""}${cardText(spec, entry)}${spec.unit ? ` ${spec.unit}` : ""}`;
                item.append(" ", part);
              }
              return item;
            }),
          );
        }
      }
    };
  }

  function meter(element, fraction) {
    const clamped = Math.max(0, Math.min(1, fraction));
    element.style.width = `${(clamped * 100).toFixed(1)}%`;
    element.classList.toggle("warm", clamped >= 0.7 && clamped < 0.85);
    element.classList.toggle("hot", clamped >= 0.85);
  }

  const isPwm = (state) => typeof state === "number" && state > 0 && state < 1;
  // A pin whose function select gives it to a bus (I2C, SPI, a UART): the server refuses to claim it
  // (unless an admin allowed it), so the dashboard offers no control for it.
  const onBus = (configuration) => Boolean(configuration && configuration.function && configuration.function !== "GPIO");

  function levelText(configuration) {
    const state = configuration.state;
    if (state === null || state === undefined) return { text: "", kind: "" };
    if (state === 0) return { text: "LOW", kind: "low" };
    if (state === 1) return { text: "HIGH", kind: "high" };
    return { text: `PWM ${Math.round(state * 100)}%`, kind: "pwm" };
  }

  // "4 s", "3 min 20 s", "2 h 5 min"
  function duration(seconds) {
    const whole = Math.max(0, Math.round(seconds));
    if (whole < 60) return `${whole} s`;
    if (whole < 3600) {
      const rest = whole % 60;
      return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${whole / 60} min`;
    }
    const minutes = Math.round((whole % 3600) / 60);
    return minutes ? `${Math.floor(whole / 3600)} h ${minutes} min` : `${Math.floor(whole / 3600)} h`;
  }

  const clock = (date, withSeconds = false) =>
    date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", ...(withSeconds ? { second: "2-digit" } : {}) });

  // Tick labels of a time axis in the browser's locale: days for day-wide steps, else times, with the
  // day under the first tick of each day.
  const TICK_TIME = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const TICK_DAY = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
  function timeTicks(splits, increment) {
    let previousDay = null;
    return splits.map((value) => {
      const date = new Date(value * 1000);
      if (increment >= 86400) return TICK_DAY.format(date);
      const day = date.toDateString();
      const label = previousDay !== null && day === previousDay ? TICK_TIME.format(date) : `${TICK_TIME.format(date)}\n${TICK_DAY.format(date)}`;
      previousDay = day;
      return label;
    });
  }

  // "12:03 today", "23:40 yesterday", "09:12 Mon 23 Nov"
  function when(date, withSeconds = false) {
    const time = clock(date, withSeconds);
    const today = new Date();
    const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
    const dayMs = 86400000;
    if (date.getTime() >= startOfToday) return `${time} today`;
    if (date.getTime() >= startOfToday - dayMs) return `${time} yesterday`;
    return `${time} ${date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" })}`;
  }

  // --- Rendering: one renderer per topic ---------------------------------------------------------

  // A SUBSCRIBE reply's `current` and the topic's passive messages both go here.
  const renderers = {
    THROTTLE(data) {
      // historyWindow: what the "has occurred" flags cover (older servers do not say: since boot).
      const recent = data.historyWindow === "LAST_2_SECONDS";
      $("#flag-window").textContent = recent ? "Last 2 s" : "Since boot";
      $("#flag-window-note").hidden = !recent;
      for (const element of $$("[data-flag]")) {
        const flag = element.dataset.flag;
        const raised = data[flag] === true;
        const past = flag.endsWith("HasOccurred");
        element.className = `flag ${raised ? (past ? "past" : "bad") : "good"}`;
        element.textContent = raised ? (past ? "Occurred" : "Active") : past ? (recent ? "No" : "Never") : "OK";
      }
    },
    PINS(data) {
      // A SUBSCRIBE reply carries every pin; a PIN_CONFIGURATIONS_CHANGED message only those that changed.
      for (const [name, configuration] of Object.entries(data)) renderPin(name, configuration);
      if (selectedPin !== null && selectedPin in data) {
        renderEditorNow();
        refreshEditor(data[selectedPin]);
      }
    },
    PIN_SETTINGS(data) {
      // Every pin's label and lock: the SUBSCRIBE reply, and again whenever one is saved in Settings.
      for (const [name, setting] of Object.entries(data)) renderPinSetting(name, setting);
      if (selectedPin !== null && selectedPin in data) {
        renderEditorNow();
        syncEditorLock();
      }
    },
    HISTORY(sample) {
      if (sample) historyView.addSample(sample); // null: no sample taken yet
    },
    EVENTS(events) {
      historyView.addEvents(events); // started, ended or found; the SUBSCRIBE reply: those going on now
    },
    ...Object.fromEntries(Object.entries(CARDS).map(([topic, card]) => [topic, cardRenderer(topic, card)])),
  };

  function renderPin(name, configuration) {
    const element = $(`.pin[data-pin="${name}"]`);
    if (element === null) return;
    const previous = pins.get(name);
    pins.set(name, configuration);
    const level = levelText(configuration);
    const output = configuration.io === "OUTPUT";
    const pwm = output && isPwm(configuration.state);
    element.dataset.io = configuration.io;
    element.dataset.level = level.kind;
    const io = $(".badge.io", element);
    io.textContent = output ? "OUT" : "IN";
    io.className = `badge io ${output ? "out" : "in"}`;
    const levelBadge = $(".badge.level", element);
    if (levelBadge.textContent !== level.text) levelBadge.textContent = level.text; // a relabel is no level change
    levelBadge.className = `badge level ${level.kind}`;
    $(".badge.pull", element).textContent = output || !configuration.pull ? "" : `PULL ${configuration.pull}`;
    const used = $(".badge.used", element);
    const bus = onBus(configuration);
    used.textContent = bus ? configuration.function : configuration.usedBy || "";
    used.title = configuration.usedBy ? `In use by the kernel: ${configuration.usedBy}` : "";
    element.classList.toggle("in-use", Boolean(configuration.usedBy) || bus);
    element.classList.toggle("on-bus", bus);
    $(".pin-label", element).textContent = configuration.label || "";
    $(".pin-label", element).title = configuration.label || "";
    syncPinControls(element, configuration);
    const duty = $(".pin-duty", element);
    if (pwm && !duty.matches(":active") && document.activeElement !== duty) {
      duty.value = String(Math.round(configuration.state * 100));
    }
    if (previous && (previous.io !== configuration.io || previous.state !== configuration.state)) {
      element.classList.remove("changed");
      void element.offsetWidth; // restart the animation
      element.classList.add("changed");
    }
  }

  // The toggle and the duty slider: what an output offers, and a locked pin does not.
  function syncPinControls(element, configuration) {
    const output = configuration.io === "OUTPUT";
    const pwm = output && isPwm(configuration.state);
    const locked = element.classList.contains("locked") || onBus(configuration);
    $(".pin-toggle", element).hidden = !output || pwm || locked; // a locked pin (or a bus's) offers no toggle
    const duty = $(".pin-duty", element);
    duty.hidden = !pwm;
    duty.disabled = locked;
  }

  // A pin's label and lock as the operator set them in Settings.
  function renderPinSetting(name, setting) {
    const element = $(`.pin[data-pin="${name}"]`);
    if (element === null) return;
    const locked = setting.locked === true;
    element.classList.toggle("locked", locked);
    const title = $(".pin-title", element);
    let icon = $(".lock-icon", title);
    if (locked && icon === null) {
      icon = document.createElement("span");
      icon.className = "lock-icon";
      icon.title = "Locked in Settings: updates are refused";
      $(".pin-name", title).after(icon);
    } else if (!locked && icon !== null) {
      icon.remove();
    }
    const select = $(".pin-select", element);
    const spoken = (select.getAttribute("aria-label") || name).replace(/, locked$/, "");
    select.setAttribute("aria-label", locked ? `${spoken}, locked` : spoken);
    const configuration = pins.get(name);
    if (configuration && (configuration.label || null) !== (setting.label || null)) {
      renderPin(name, { ...configuration, label: setting.label });
    } else if (configuration) {
      syncPinControls(element, configuration);
    }
  }

  // --- Errors: a failed reading marks its card; any other error becomes a toast --------------------

  // The server's plain sentence (``summary``) leads and its technical message is folded away below it;
  // an error without one (an older server, or not a reading) is shown as it came.
  function showCardError(topic, message, summary) {
    const card = $(`[data-topic="${topic}"]`);
    if (card === null) return false;
    const slot = $(".card-error", card);
    if (message && summary) {
      const plain = document.createElement("p");
      plain.className = "error-summary";
      plain.textContent = summary;
      const details = document.createElement("details");
      details.className = "error-detail";
      const title = document.createElement("summary");
      title.textContent = "Technical detail";
      const text = document.createElement("code");
      text.textContent = message;
      details.append(title, text);
      slot.replaceChildren(plain, details);
    } else {
      slot.textContent = message || "";
    }
    slot.hidden = !message;
    card.classList.toggle("failed", Boolean(message));
    return true;
  }

  function toast(title, message) {
    const list = $("#toasts");
    const existing = $$(".toast", list).find((item) => item.dataset.message === message);
    if (existing) existing.remove();
    const item = document.createElement("li");
    item.className = "toast";
    item.dataset.message = message;
    const text = document.createElement("div");
    const heading = document.createElement("b");
    heading.textContent = title;
    text.append(heading, document.createTextNode(message));
    const close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(text, close);
    list.append(item);
    while (list.children.length > 4) list.firstElementChild.remove();
    setTimeout(() => item.remove(), 12000);
  }

  // A reply or message nobody waits for and no subscription owns: only errors are worth showing.
  function unexpected(envelope) {
    if (envelope === null || typeof envelope !== "object" || envelope.success) return;
    toast(envelope.action ? `${envelope.action} failed` : "The server refused a message", envelope.error || "Unknown error");
  }

  // --- Subscriptions: SUBSCRIBE to every topic on each connection; passive messages render -------

  class Subscriber {
    constructor(connection, topics) {
      this.connection = connection;
      this.topics = topics; // topic -> SUBSCRIBE params besides the topic
      this.events = new Map(); // passive action -> topic, from the SUBSCRIBE replies
      this.subscribed = new Set();
      this.retry = new Map(); // topic -> timer of a retried SUBSCRIBE
    }

    // A new connection: subscribe to everything again (the replies carry the state as it is now).
    subscribeAll() {
      this.reset();
      for (const topic of Object.keys(this.topics)) this.subscribe(topic);
    }

    reset() {
      for (const timer of this.retry.values()) clearTimeout(timer);
      this.retry.clear();
      this.subscribed.clear();
    }

    async subscribe(topic) {
      clearTimeout(this.retry.get(topic));
      this.retry.delete(topic);
      let reply;
      try {
        reply = await this.connection.request("SUBSCRIBE", { topic, ...this.topics[topic] });
      } catch (error) {
        return; // the connection went away; the next one subscribes again
      }
      if (reply.success) {
        this.events.set(reply.data.event, topic);
        this.subscribed.add(topic);
        if (typeof reply.data.currentError === "string") {
          // Subscribed, but the reading fails right now: say so; the server pushes it when it works again.
          showCardError(topic, reply.data.currentError, reply.data.currentSummary);
        } else {
          showCardError(topic, "");
          renderers[topic](reply.data.current);
        }
      } else if (/^topic:/.test(reply.error || "")) {
        // This server has no such topic (an older server, or one without the history): say so once.
        showCardError(topic, `Not available on this server (${reply.error.replace(/^topic: /, "")})`);
      } else {
        // Refused (a limit, say): the topic is left unsubscribed; say so, try again.
        if (!showCardError(topic, reply.error, reply.summary)) toast(`Subscribing to ${topic} failed`, reply.summary || reply.error);
        this.retry.set(
          topic,
          setTimeout(() => this.subscribe(topic), RESUBSCRIBE_AFTER_MS),
        );
      }
    }

    // Every envelope that answers no request of ours: a passive message of a topic, or something else.
    receive(envelope) {
      if (envelope === null || typeof envelope !== "object") return;
      if (envelope.action === "MESSAGES_DROPPED" && envelope.success) {
        // The server coalesced a backlog and sent the latest state already; a fresh snapshot is cheap.
        for (const topic of envelope.data.topics || []) if (topic in this.topics) this.subscribe(topic);
        return;
      }
      const topic = this.events.get(envelope.action);
      if (topic === undefined) {
        unexpected(envelope);
      } else if (envelope.success) {
        showCardError(topic, "");
        renderers[topic](envelope.data);
      } else {
        showCardError(topic, envelope.error, envelope.summary); // a reading that failed this time; the next may work
      }
    }
  }

  // --- History: two uPlot charts on one time axis, events as bands, and the events list -----------

  const CSS = getComputedStyle(document.documentElement);
  const colour = (name) => CSS.getPropertyValue(name).trim();
  const BAND = { underVoltage: "rgba(240, 82, 79, 0.30)", other: "rgba(232, 163, 61, 0.26)" };
  const BAND_BRIEF = { underVoltage: "rgba(240, 82, 79, 0.55)", other: "rgba(232, 163, 61, 0.5)" };

  const eventKey = (event) => `${event.condition}|${event.start}`;
  // A pushed sample's value of a chart's series (null where its reading failed).
  const sampled = (sample, chart, key) => {
    const section = sample[chart.reading];
    const value = section ? section[key] : null;
    return typeof value === "number" ? value : null;
  };
  const seconds = (iso) => Date.parse(iso) / 1000;

  class HistoryView {
    constructor() {
      let saved = null;
      try {
        saved = window.localStorage.getItem(RANGE_STORAGE_KEY);
      } catch (error) {
        saved = null;
      }
      this.range = saved in RANGES ? saved : "24h";
      this.bucket = 10; // seconds per point, from the server's answer
      this.data = { time: [], count: [], tmin: [], tmean: [], tmax: [], arm: [], core: [] };
      this.events = new Map();
      this.charts = [];
      this.loaded = false;
      this.pending = []; // samples pushed while a load is on its way
      this.pendingEvents = []; // and events: newer than the load's answer, they win over it
      this.generation = 0; // a range chosen while an older one loads wins
      this.throttleRead = false; // whether the throttle flags were read at least once in the range
    }

    // The width the charts get: that of the panel's text (a hidden chart has none).
    chartWidth() {
      return $("#history-foot").clientWidth;
    }

    get span() {
      return RANGES[this.range];
    }

    names() {
      const names = {};
      for (const row of $$(".flag-row[data-condition]")) names[row.dataset.condition] = $(".flag-name", row).textContent;
      return names;
    }

    // --- loading: once per connection and per range ---------------------------------------------

    async load() {
      const generation = ++this.generation;
      const since = `-${this.range}`;
      const width = this.chartWidth() || 600;
      const points = Math.max(60, Math.min(600, Math.round(width / 2)));
      let reply;
      let events;
      try {
        [reply, events] = await Promise.all([
          // The throttle's series say whether its flags were read at all in the range (see throttleRead).
          connection.request("READ_HISTORY", {
            readings: Array.from(new Set(["temperature", "frequency", "throttle", ...CHARTS.map((chart) => chart.reading)])),
            since,
            points,
          }),
          connection.request("READ_EVENTS", { since }),
        ]);
      } catch (error) {
        return; // connection lost; the next connection loads again
      }
      if (generation !== this.generation) return;
      if (!reply.success) {
        showCardError("HISTORY", reply.error, reply.summary);
        return;
      }
      showCardError("HISTORY", "");
      this.setHistory(reply.data);
      // Samples pushed while the answer was on its way: those it does not hold yet go in now.
      const until = seconds(reply.data.until);
      const pending = this.pending.filter((sample) => seconds(sample.time) >= until);
      const pushedEvents = this.pendingEvents;
      this.pending = [];
      this.pendingEvents = [];
      this.loaded = true;
      for (const sample of pending) this.addSample(sample);
      if (events.success) {
        showCardError("EVENTS", "");
        this.events.clear();
        this.addEvents(events.data.events);
        this.addEvents(pushedEvents); // newer than the answer (an event that ended meanwhile)
      } else {
        showCardError("EVENTS", events.error, events.summary);
      }
      this.renderEvents();
      this.draw();
    }

    setRange(range) {
      if (!(range in RANGES)) return;
      this.range = range;
      try {
        window.localStorage.setItem(RANGE_STORAGE_KEY, range);
      } catch (error) {
        // private mode: the range is not remembered
      }
      for (const button of $$(".range")) button.setAttribute("aria-pressed", String(button.dataset.range === range));
      if (connection.open) {
        this.loaded = false;
        this.pending = [];
        this.pendingEvents = [];
        this.load();
      }
    }

    setHistory(answer) {
      this.bucket = answer.bucketSeconds || 10;
      const temperature = (answer.readings.temperature || {}).systemOnChip;
      const frequency = answer.readings.frequency || {};
      const mhz = (values) => (values || []).map((value) => (value === null ? null : value / 1e6));
      this.data = {
        time: answer.time.map(seconds),
        count: answer.count.slice(),
        tmin: temperature ? temperature.min.slice() : [],
        tmean: temperature ? temperature.mean.slice() : [],
        tmax: temperature ? temperature.max.slice() : [],
        arm: frequency.arm ? mhz(frequency.arm.mean) : [],
        core: frequency.core ? mhz(frequency.core.mean) : [],
      };
      const flags = Object.values(answer.readings.throttle || {});
      this.throttleRead = flags.some((series) => (series.mean || []).some((value) => value !== null));
      for (const chart of CHARTS) {
        const lines = answer.readings[chart.reading] || {};
        for (const key of chart.keys) {
          const line = lines[key];
          this.data[chartKey(chart, key)] = line ? line.mean.slice() : answer.time.map(() => null);
        }
      }
      const width = this.bucket >= 60 ? `one point per ${duration(this.bucket)}` : `one point per ${this.bucket} s`;
      $("#history-foot").textContent = `Last ${this.range.replace("h", " h").replace("d", " days")}, ${width}: the line is the mean, the shading the lowest and highest temperature.`;
    }

    // --- live: one sample or a few events at a time ----------------------------------------------

    addSample(sample) {
      if (!this.loaded) {
        this.pending.push(sample); // the load on its way may or may not hold it
        if (this.pending.length > 1000) this.pending.shift(); // no load is coming (no history here)
        return;
      }
      const t = seconds(sample.time);
      if (sample.throttle && !this.throttleRead) {
        this.throttleRead = true; // read now (null: it failed this time)
        this.renderEvents();
      }
      const temperature = sample.temperature ? sample.temperature.systemOnChip : null;
      const arm = sample.frequency ? sample.frequency.arm / 1e6 : null;
      const core = sample.frequency ? sample.frequency.core / 1e6 : null;
      const d = this.data;
      const last = d.time.length - 1;
      if (last >= 0 && t < d.time[last] + this.bucket) {
        // Into the newest bucket: min and max widen, the means take the sample in.
        const n = d.count[last];
        const mean = (old, value) => (value === null ? old : old === null ? value : (old * n + value) / (n + 1));
        if (temperature !== null) {
          d.tmin[last] = d.tmin[last] === null ? temperature : Math.min(d.tmin[last], temperature);
          d.tmax[last] = d.tmax[last] === null ? temperature : Math.max(d.tmax[last], temperature);
        }
        d.tmean[last] = mean(d.tmean[last], temperature);
        d.arm[last] = mean(d.arm[last], arm);
        d.core[last] = mean(d.core[last], core);
        for (const chart of CHARTS) {
          for (const key of chart.keys) d[chartKey(chart, key)][last] = mean(d[chartKey(chart, key)][last], sampled(sample, chart, key));
        }
        d.count[last] = n + 1;
      } else if (last < 0 || t > d.time[last]) {
        d.time.push(Math.floor(t / this.bucket) * this.bucket);
        d.count.push(1);
        d.tmin.push(temperature);
        d.tmean.push(temperature);
        d.tmax.push(temperature);
        d.arm.push(arm);
        d.core.push(core);
        for (const chart of CHARTS) for (const key of chart.keys) d[chartKey(chart, key)].push(sampled(sample, chart, key));
      }
      const oldest = Date.now() / 1000 - this.span;
      while (d.time.length > 0 && d.time[0] < oldest - this.bucket) for (const key of Object.keys(d)) d[key].shift();
      this.draw();
    }

    addEvents(events) {
      if (!this.loaded) this.pendingEvents.push(...(events || []));
      for (const event of events || []) this.events.set(eventKey(event), event);
      this.renderEvents();
      this.draw();
    }

    // --- drawing ---------------------------------------------------------------------------------

    // uPlot's data: gaps (no samples, the server was off) become nulls so lines break there.
    series() {
      const d = this.data;
      const columns = [[], [], [], [], [], []];
      const extra = Object.fromEntries(CHARTS.flatMap((chart) => chart.keys.map((key) => [chartKey(chart, key), []])));
      columns.extra = extra;
      for (let index = 0; index < d.time.length; index += 1) {
        if (index > 0 && d.time[index] - d.time[index - 1] > this.bucket * 2.5) {
          columns[0].push(d.time[index - 1] + this.bucket);
          for (let column = 1; column < 6; column += 1) columns[column].push(null);
          for (const values of Object.values(extra)) values.push(null);
        }
        for (const [name, values] of Object.entries(extra)) values.push((d[name] || [])[index] ?? null);
        columns[0].push(d.time[index]);
        columns[1].push(d.tmin[index] ?? null);
        columns[2].push(d.tmax[index] ?? null);
        columns[3].push(d.tmean[index] ?? null);
        columns[4].push(d.arm[index] ?? null);
        columns[5].push(d.core[index] ?? null);
      }
      return columns;
    }

    drawBands(u) {
      const { ctx } = u;
      const { left, top, width, height } = u.bbox;
      const now = Date.now() / 1000;
      const minimum = Math.max(2, window.devicePixelRatio * 2);
      let drawn = 0;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      for (const event of this.events.values()) {
        const start = seconds(event.start);
        const end = event.end === null ? now : seconds(event.end);
        let x0 = u.valToPos(start, "x", true);
        let x1 = u.valToPos(end, "x", true);
        if (x1 < left || x0 > left + width) continue;
        if (x1 - x0 < minimum) {
          const middle = (x0 + x1) / 2;
          x0 = middle - minimum / 2;
          x1 = middle + minimum / 2;
        }
        const palette = event.observed === false ? BAND_BRIEF : BAND;
        ctx.fillStyle = event.condition === "underVoltage" ? palette.underVoltage : palette.other;
        ctx.fillRect(x0, top, x1 - x0, height);
        drawn += 1;
      }
      ctx.restore();
      u.root.parentNode.dataset.bands = String(drawn); // what a test (or a curious reader) can check
    }

    options(kind, width) {
      const muted = colour("--muted") || "#8b9bab";
      const grid = colour("--line") || "#2b3744";
      const axis = (format) => ({
        stroke: muted,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        font: "12px system-ui, sans-serif",
        size: 64, // the same for both charts, so their time axes line up
        values: (u, values) => values.map(format),
      });
      const common = {
        width,
        height: phoneLayout.matches ? 150 : 200,
        legend: { show: false },
        cursor: { sync: { key: "endrpi-history" }, drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: true, range: () => [Date.now() / 1000 - this.span, Date.now() / 1000] } },
        hooks: { drawClear: [(u) => this.drawBands(u)], setCursor: [(u) => this.readout(kind, u)] },
        padding: [12, 26, 0, 0], // room on the right for half of the last time label ("6:00 PM")
      };
      // The time axis in the browser's own formats (Intl), not uPlot's US ones: "14:00" and "6 Dec" in
      // de-DE, "2 PM" and "Dec 6" in en-US. A tick that starts a new day says which day.
      const xAxis = {
        stroke: muted,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        font: "12px system-ui, sans-serif",
        values: (u, splits, axisIndex, space, increment) => {
          const labels = timeTicks(splits, increment);
          u.root.parentNode.dataset.xTicks = labels.join("|"); // what a test (or a curious reader) can check
          return labels;
        },
      };
      if (kind === "temperature") {
        const temp = colour("--temp") || "#ff8a5c";
        return {
          ...common,
          series: [
            {},
            { label: "lowest", stroke: "transparent", points: { show: false } },
            { label: "highest", stroke: "transparent", points: { show: false } },
            { label: "Temperature", stroke: temp, width: 2, points: { show: lonePoint } },
          ],
          bands: [{ series: [2, 1], fill: "rgba(255, 138, 92, 0.18)" }],
          scales: {
            ...common.scales,
            y: { range: (u, min, max) => (min === null ? [30, 60] : [Math.floor(min - 2), Math.ceil(max + 2)]) },
          },
          axes: [xAxis, axis((value) => `${number(value, 0)} °C`)],
        };
      }
      return {
        ...common,
        series: [
          {},
          { label: "ARM", stroke: colour("--arm") || "#5cb8ff", width: 2, points: { show: lonePoint } },
          { label: "Core", stroke: colour("--core") || "#b98cff", width: 2, points: { show: lonePoint } },
        ],
        scales: {
          ...common.scales,
          y: { range: (u, min, max) => (min === null ? [0, 2000] : [0, Math.ceil((max * 1.1) / 100) * 100]) },
        },
        axes: [xAxis, axis((value) => (value === 0 ? "0" : `${number(value / 1000, 1)} GHz`))],
      };
    }

    draw() {
      if (typeof window.uPlot !== "function") return;
      const columns = this.series();
      const temperature = [columns[0], columns[1], columns[2], columns[3]];
      const clocks = [columns[0], columns[4], columns[5]];
      // Nothing to draw: say why instead of drawing empty axes.
      const known = (values) => values.some((value) => value !== null && value !== undefined);
      const nothing = this.loaded && columns[0].length === 0;
      const noTemperature = this.loaded && !nothing && !known(columns[3]);
      const noClocks = this.loaded && !nothing && !known(columns[4]) && !known(columns[5]);
      $("#history-empty").hidden = !nothing;
      $("#empty-temperature").hidden = !noTemperature;
      $("#empty-clocks").hidden = !noClocks;
      $("#chart-temperature").hidden = nothing || noTemperature;
      $("#chart-clocks").hidden = nothing || noClocks;
      $("#readout-temperature").classList.toggle("quiet", nothing || noTemperature);
      $("#readout-clocks").classList.toggle("quiet", nothing || noClocks);
      for (const extra of CHARTS) {
        const none = this.loaded && !nothing && !extra.keys.some((key) => known(columns.extra[chartKey(extra, key)]));
        const empty = $(`#empty-${extra.id}`);
        if (empty) empty.hidden = !none;
        $(`#chart-${extra.id}`).hidden = nothing || none;
        $(`#readout-${extra.id}`).classList.toggle("quiet", nothing || none);
      }
      const chart = $("#chart-temperature");
      chart.dataset.points = String(this.data.time.length);
      chart.dataset.samples = String(this.data.count.reduce((sum, count) => sum + count, 0));
      if (this.charts.length === 0) {
        const width = this.chartWidth();
        if (width === 0) return;
        this.charts = [
          new window.uPlot(this.options("temperature", width), temperature, $("#chart-temperature")),
          new window.uPlot(this.options("clocks", width), clocks, $("#chart-clocks")),
          ...CHARTS.map(
            (chart) =>
              new window.uPlot(this.extraOptions(chart, width), this.extraData(chart, columns), $(`#chart-${chart.id}`)),
          ),
        ];
        const observer = new ResizeObserver(() => this.resize());
        observer.observe($("#history-foot"));
        // uPlot's cursor follows the mouse; a finger moves it too (both charts, they are synced).
        for (const chart of this.charts) {
          const follow = (event) => {
            const touch = event.touches[0];
            const box = chart.over.getBoundingClientRect();
            chart.setCursor({ left: touch.clientX - box.left, top: touch.clientY - box.top });
          };
          chart.over.addEventListener("touchstart", follow, { passive: true });
          chart.over.addEventListener("touchmove", follow, { passive: true });
        }
      } else {
        this.charts[0].setData(temperature);
        this.charts[1].setData(clocks);
        CHARTS.forEach((chart, index) => this.charts[2 + index].setData(this.extraData(chart, columns)));
      }
      for (const [index, kind] of ["temperature", "clocks"].entries()) this.readout(kind, this.charts[index]);
      CHARTS.forEach((chart, index) => this.extraReadout(chart, this.charts[2 + index]));
    }

    extraData(chart, columns) {
      return [columns[0], ...chart.keys.map((key) => columns.extra[chartKey(chart, key)].map((value) => (value === null ? null : value / chart.scale)))];
    }

    extraOptions(chart, width) {
      const base = this.options("clocks", width);
      const print = FORMATS[chart.format] || FORMATS.text;
      return {
        ...base,
        hooks: { ...base.hooks, setCursor: [(u) => this.extraReadout(chart, u)] },
        series: [{}, ...chart.keys.map((key, index) => ({ label: key, stroke: CHART_COLOURS[index % CHART_COLOURS.length], width: 2, points: { show: lonePoint } }))],
        scales: { ...base.scales, y: { range: (u, min, max) => (min === null ? [0, 1] : [0, max > 0 ? max * 1.1 : 1]) } },
        axes: [base.axes[0], { ...base.axes[1], values: (u, values) => values.map((value) => print(value)) }],
      };
    }

    // "CPU · 13:05 today · 12%": the values under the cursor, or the newest.
    extraReadout(chart, u) {
      const element = $(`#readout-${chart.id}`);
      if (!element) return;
      const times = u.data[0];
      let index = u.cursor.idx;
      if (index === null || index === undefined) {
        index = times.length - 1;
        while (index >= 0 && u.data[1][index] === null) index -= 1;
      }
      if (index < 0 || times[index] === undefined) {
        element.textContent = "";
        return;
      }
      const title = document.createElement("span");
      title.className = "readout-title";
      title.textContent = chart.title;
      const print = FORMATS[chart.format] || FORMATS.text;
      const values = chart.keys.map((key, position) => {
        const value = u.data[position + 1][index];
        return `${chart.keys.length > 1 ? `${key} ` : ""}${value === null || value === undefined ? "—" : print(value)}`;
      });
      const bold = document.createElement("b");
      bold.textContent = values.join(" · ");
      element.replaceChildren(title, ` · ${when(new Date(times[index] * 1000))} · `, bold);
    }

    // The values under the cursor, or the newest when there is none:
    // "SoC temperature · 13:05 today · 52.3 °C (49.8-55.1)".
    readout(kind, u) {
      const element = $(`#readout-${kind}`);
      const times = u.data[0];
      let index = u.cursor.idx;
      if (index === null || index === undefined) {
        index = times.length - 1;
        while (index >= 0 && u.data[kind === "temperature" ? 3 : 1][index] === null) index -= 1;
      }
      if (index < 0 || times[index] === undefined) {
        element.textContent = "";
        return;
      }
      const title = document.createElement("span");
      title.className = "readout-title";
      title.textContent = kind === "temperature" ? "SoC temperature" : "Clocks";
      const parts = [title, ` · ${when(new Date(times[index] * 1000))} · `];
      const bold = (text) => {
        const b = document.createElement("b");
        b.textContent = text;
        return b;
      };
      if (kind === "temperature") {
        const [low, high, mean] = [u.data[1][index], u.data[2][index], u.data[3][index]];
        if (mean === null) return void element.replaceChildren(...parts, "no sample");
        parts.push(bold(`${number(mean, 1)} °C`));
        if (low !== null && high !== null && high - low >= 0.05) parts.push(` (${number(low, 1)}–${number(high, 1)})`);
      } else {
        const [arm, core] = [u.data[1][index], u.data[2][index]];
        if (arm === null && core === null) return void element.replaceChildren(...parts, "no sample");
        parts.push("ARM ", bold(arm === null ? "—" : `${number(arm, 0)} MHz`), " · core ", bold(core === null ? "—" : `${number(core, 0)} MHz`));
      }
      element.replaceChildren(...parts);
    }

    resize() {
      const width = this.chartWidth();
      const height = phoneLayout.matches ? 150 : 200;
      for (const chart of this.charts) if (chart.width !== width || chart.height !== height) chart.setSize({ width, height });
    }

    // --- the events list ---------------------------------------------------------------------------

    renderEvents() {
      const names = this.names();
      const oldest = Date.now() / 1000 - this.span;
      const events = Array.from(this.events.values())
        .filter((event) => event.end === null || seconds(event.end) >= oldest)
        .sort((a, b) => seconds(b.start) - seconds(a.start));
      const list = $("#events");
      list.replaceChildren(
        ...events.slice(0, 100).map((event) => {
          const item = document.createElement("li");
          item.className = `event cond-${event.condition}${event.end === null ? " ongoing" : ""}`;
          const text = document.createElement("span");
          text.className = "event-text";
          const name = names[event.condition] || event.condition;
          const start = new Date(event.start);
          text.title = event.end ? `${event.start} to ${event.end}` : `since ${event.start}`;
          if (event.end === null) {
            text.textContent = `${name} since ${when(start)}, still going on`;
          } else if (event.observed === false) {
            text.textContent = `${name}, too brief to see, between ${clock(start, true)} and ${when(new Date(event.end), true)}`;
          } else {
            text.textContent = `${name} for ${duration(event.durationSeconds ?? (seconds(event.end) - seconds(event.start)))} at ${when(start)}`;
          }
          item.append(text);
          return item;
        }),
      );
      // No event is news only where the flags were read: otherwise say they could not be.
      const sampled = this.data.time.length > 0; // with no sample at all, the charts' note says why
      const unknown = events.length === 0 && this.loaded && sampled && !this.throttleRead;
      $("#events-empty").hidden = events.length > 0 || unknown || (this.loaded && !sampled);
      $("#events-unknown").hidden = !unknown;
      $("#events-range").textContent = `last ${this.range.replace("h", " h").replace("d", " days")}`;
    }
  }

  const historyView = new HistoryView();

  // --- The platform line, from REST once per connection ------------------------------------------

  async function loadPlatform() {
    const line = $("#platform");
    const headers = { Accept: "application/json" };
    try {
      const token = window.localStorage.getItem(TOKEN_STORAGE_KEY);
      if (token) headers.Authorization = `Bearer ${token}`; // under ENDRPI_AUTH=all REST needs it too
    } catch (error) {
      // storage unavailable: ask without a token
    }
    try {
      const response = await fetch("/system/platform", { headers });
      const body = await response.json();
      if (!response.ok) {
        line.textContent = `Platform unavailable: ${body.message || `HTTP ${response.status}`}`; // a REST body is only a Message
        line.title = body.message || "";
        return;
      }
      const os = body.operatingSystem;
      line.replaceChildren();
      const host = document.createElement("strong");
      host.textContent = body.networkName;
      // The board (from the device tree) rather than the kernel's build string; off a Pi, the machine type.
      line.append(host, ` · ${body.model || body.machineType} · ${os.name} ${os.release}`);
      line.title = line.textContent;
      document.title = `${body.networkName} · Endrpi`;
    } catch (error) {
      line.textContent = `Platform unavailable: ${error.message}`;
    }
  }

  // --- Pin controls ------------------------------------------------------------------------------

  async function updatePin(name, configuration) {
    const reply = await connection.request(PIN_UPDATE, { pins: { [name]: configuration } });
    if (reply.success && !subscriber.subscribed.has("PINS")) {
      // Not subscribed to the pins (yet): read the pin rather than wait for a message that will not come.
      const read = await connection.request(PIN_READ, { pins: [name] });
      if (read.success) renderers.PINS(read.data);
    }
    if (!reply.success && /locked/.test(reply.error || "")) {
      // Locked in the admin since the page was loaded (an older server that does not push locks): show it.
      const element = $(`.pin[data-pin="${name}"]`);
      const configuration = pins.get(name);
      renderPinSetting(name, { locked: true, label: configuration ? configuration.label : null });
      if (selectedPin === name) renderEditorFacts();
      if (!element.classList.contains("locked")) element.classList.add("locked");
    }
    return reply;
  }

  const pinElement = (name) => $(`.pin[data-pin="${name}"]`);

  function allowedPulls(name) {
    return (pinElement(name).dataset.pulls || "FLOATING UP DOWN").split(" ").filter(Boolean);
  }

  function selectPin(name) {
    selectedPin = name;
    for (const element of $$(".pin.gpio")) element.classList.toggle("selected", element.dataset.pin === name);
    const element = pinElement(name);
    $("#editor-empty").hidden = true;
    const form = $("#editor-form");
    form.hidden = false;
    $("#editor-name").textContent = name;
    $("#editor-physical").textContent = `physical pin ${element.dataset.physical}`;
    $("#editor-message").textContent = "";
    $("#editor-message").className = "editor-message";
    const pulls = allowedPulls(name);
    for (const label of $$("#editor-pull label")) label.hidden = !pulls.includes(label.dataset.pull);
    const hint = $("#editor-pull-hint");
    hint.hidden = pulls.length === 3;
    hint.textContent = pulls.length === 1 ? `${name} has a fixed pull-${pulls[0].toLowerCase()} resistor on the board.` : "";
    fillEditor(pins.get(name) || null);
    renderEditorFacts();
    renderEditorNow();
    syncEditorFields();
    syncEditorLock();
    openSheet();
  }

  // The editor's fields from a configuration (the pin as it is now).
  function fillEditor(configuration) {
    editorBase = configuration;
    if (!configuration) return;
    const form = $("#editor-form");
    const pulls = allowedPulls(selectedPin);
    form.elements.io.value = configuration.io;
    form.elements.pull.value = pulls.includes(configuration.pull) ? configuration.pull : pulls[0];
    if (isPwm(configuration.state)) {
      form.elements.state.value = "pwm";
      $("#editor-duty").value = String(Math.round(configuration.state * 100));
    } else {
      form.elements.state.value = configuration.state === 1 ? "1" : "0";
    }
  }

  // What the editor's fields say about a pin: an input's level comes and goes on its own, so it is not part of it.
  const editorView = (configuration) =>
    configuration
      ? JSON.stringify([configuration.io, configuration.io === "INPUT" ? configuration.pull : configuration.state])
      : "";

  // The selected pin changed while its editor is open (another window, REST, a saved setting): the fields
  // show the pin as it is now, so Apply cannot quietly undo the other change.
  function refreshEditor(configuration) {
    if (editorView(configuration) === editorView(editorBase)) return;
    fillEditor(configuration);
    syncEditorFields();
    if (!editorApplying) {
      const message = $("#editor-message");
      message.textContent = `${selectedPin} was changed elsewhere: the editor now shows it as it is.`;
      message.className = "editor-message note";
    }
  }

  // A locked pin's editor shows why nothing can be applied, and offers no Apply.
  function syncEditorLock() {
    if (selectedPin === null) return;
    const bus = onBus(pins.get(selectedPin));
    const locked = pinElement(selectedPin).classList.contains("locked") || bus;
    const apply = $("#editor-apply");
    apply.disabled = locked;
    apply.textContent = bus ? `In use: ${pins.get(selectedPin).function}` : locked ? "Locked in Settings" : "Apply";
    for (const input of $$("#editor-form input")) input.disabled = locked;
    renderEditorFacts();
  }

  function renderEditorFacts() {
    const element = pinElement(selectedPin);
    const configuration = pins.get(selectedPin) || {};
    const facts = [];
    if (element.classList.contains("locked")) facts.push(["fact-locked", "Locked in Settings: changes are refused."]);
    if (onBus(configuration)) {
      facts.push(["fact-function", `Function: ${configuration.function}. Endrpi leaves it to its bus (an admin can allow taking it over in Settings).`]);
    } else if (element.dataset.function) {
      facts.push(["fact-function", `Alternate function: ${element.dataset.function}`]);
    }
    if (configuration.usedBy) facts.push(["fact-used", `In use by the kernel: ${configuration.usedBy}`]);
    $("#editor-facts").replaceChildren(
      ...facts.map(([kind, text]) => {
        const item = document.createElement("li");
        item.className = kind;
        item.textContent = text;
        return item;
      }),
    );
  }

  function renderEditorNow() {
    const configuration = pins.get(selectedPin);
    $("#editor-label").textContent = configuration && configuration.label ? configuration.label : "";
    if (!configuration) {
      $("#editor-now").textContent = "not read yet";
      return;
    }
    const level = levelText(configuration);
    const pull = configuration.io === "INPUT" && configuration.pull ? `, pull ${configuration.pull.toLowerCase()}` : "";
    $("#editor-now").textContent = `${configuration.io.toLowerCase()}, ${level.text || "level unknown"}${pull}`;
    renderEditorFacts();
  }

  function syncEditorFields() {
    const form = $("#editor-form");
    const io = form.elements.io.value;
    $("#editor-pull").hidden = io !== "INPUT";
    $("#editor-pull-hint").hidden = io !== "INPUT" || allowedPulls(selectedPin).length === 3;
    $("#editor-state").hidden = io !== "OUTPUT";
    $("#editor-pwm").hidden = io !== "OUTPUT" || form.elements.state.value !== "pwm";
    $("#editor-duty-value").textContent = `${$("#editor-duty").value}%`;
  }

  // --- The editor as a bottom sheet on a phone -----------------------------------------------------

  function openSheet() {
    if (!phoneLayout.matches) return;
    $("#editor").classList.add("open");
    $("#sheet-backdrop").hidden = false;
    document.body.classList.add("sheet-open");
  }

  function closeSheet() {
    $("#editor").classList.remove("open");
    $("#sheet-backdrop").hidden = true;
    document.body.classList.remove("sheet-open");
    if (selectedPin !== null) {
      const select = $(".pin-select", pinElement(selectedPin));
      select.focus({ preventScroll: true });
    }
  }

  // A duty slider sends while it moves (at most every PWM_SEND_EVERY_MS) and once when let go.
  function dutySender(name) {
    let timer = null;
    let last = 0;
    let pending = null;
    const send = () => {
      timer = null;
      last = Date.now();
      const state = pending;
      pending = null;
      updatePin(name, { io: "OUTPUT", state }).then(
        (reply) => reply.success || toast(`${name} was not changed`, reply.error),
        (error) => toast(`${name} was not changed`, error.message),
      );
    };
    return (state, final) => {
      pending = state;
      if (final) {
        clearTimeout(timer);
        send();
      } else if (timer === null) {
        timer = setTimeout(send, Math.max(0, PWM_SEND_EVERY_MS - (Date.now() - last)));
      }
    };
  }

  function wireControls() {
    for (const element of $$(".pin.gpio")) {
      const name = element.dataset.pin;
      $(".pin-select", element).addEventListener("click", () => selectPin(name));
      const toggle = $(".pin-toggle", element);
      toggle.addEventListener("click", async () => {
        const configuration = pins.get(name);
        if (!configuration || configuration.io !== "OUTPUT") return;
        toggle.disabled = true;
        try {
          const reply = await updatePin(name, { io: "OUTPUT", state: configuration.state >= 0.5 ? 0 : 1 });
          if (!reply.success) toast(`${name} was not changed`, reply.error);
        } catch (error) {
          toast(`${name} was not changed`, error.message);
        } finally {
          toggle.disabled = false;
        }
      });
      const duty = $(".pin-duty", element);
      const sendDuty = dutySender(name);
      duty.min = "1";
      duty.max = "99";
      duty.addEventListener("input", () => sendDuty(Number(duty.value) / 100, false));
      duty.addEventListener("change", () => sendDuty(Number(duty.value) / 100, true));
    }
    const form = $("#editor-form");
    form.addEventListener("change", syncEditorFields);
    $("#editor-duty").addEventListener("input", syncEditorFields);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (selectedPin === null) return;
      const io = form.elements.io.value;
      const message = $("#editor-message");
      if (!io) {
        message.textContent = "Choose Input or Output first.";
        message.className = "editor-message error";
        return;
      }
      const level = form.elements.state.value || "0";
      const state = level === "pwm" ? Number($("#editor-duty").value) / 100 : Number(level);
      const configuration =
        io === "INPUT" ? { io, pull: form.elements.pull.value || allowedPulls(selectedPin)[0] } : { io, state };
      const apply = $("#editor-apply");
      apply.disabled = true;
      editorApplying = true;
      message.textContent = "Applying…";
      message.className = "editor-message";
      const name = selectedPin;
      const before = editorBase;
      editorBase = { ...configuration }; // the push of this change is not news to this editor
      try {
        const reply = await updatePin(name, configuration);
        if (!reply.success && selectedPin === name) editorBase = before;
        message.textContent = reply.success ? `${name} updated.` : reply.error;
        message.className = `editor-message ${reply.success ? "ok" : "error"}`;
      } catch (error) {
        if (selectedPin === name) editorBase = before;
        message.textContent = error.message;
        message.className = "editor-message error";
      } finally {
        editorApplying = false;
        syncEditorLock(); // enables Apply again, unless the pin is locked
      }
    });
    $("#editor-close").addEventListener("click", closeSheet);
    $("#sheet-backdrop").addEventListener("click", closeSheet);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && $("#editor").classList.contains("open")) closeSheet();
    });
    phoneLayout.addEventListener("change", () => {
      if (!phoneLayout.matches) closeSheet();
    });
    for (const button of $$(".range")) button.addEventListener("click", () => historyView.setRange(button.dataset.range));
    $("#reconnect-now").addEventListener("click", () => connection.retryNow());
  }

  // --- Connection state on the page ----------------------------------------------------------------

  function setStatus(state, text) {
    const status = $("#status");
    status.dataset.state = state;
    status.textContent = text;
  }

  let countdown = null;

  function showBanner(delay, attempt) {
    const banner = $("#banner");
    const detail = $("#banner-detail");
    banner.hidden = false;
    banner.dataset.attempt = attempt;
    banner.dataset.retryMs = delay;
    clearInterval(countdown);
    const until = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      detail.textContent =
        seconds > 0 ? `Reconnecting in ${seconds} s (attempt ${attempt}); readings below may be out of date.` : "Reconnecting…";
    };
    tick();
    countdown = setInterval(tick, 250);
  }

  function hideBanner() {
    clearInterval(countdown);
    $("#banner").hidden = true;
  }

  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  // ?summaries=1: failed readings come with their plain sentence ("summary"), which the cards lead with.
  const connection = new Connection(`${scheme}://${window.location.host}/?summaries=1`, {
    onOpen() {
      setStatus("live", "Live");
      hideBanner();
      loadPlatform();
      historyView.loaded = false; // until the load's answer is in, pushed samples wait
      historyView.pending = [];
      historyView.pendingEvents = [];
      subscriber.subscribeAll();
      historyView.load();
    },
    onClose({ delay, attempt }) {
      setStatus("offline", "Offline");
      subscriber.reset();
      showBanner(delay, attempt);
    },
    onUnmatched: (envelope) => subscriber.receive(envelope),
  });
  const subscriber = new Subscriber(connection, TOPICS);
  // Back from sleep or a network change: try at once rather than wait for the next attempt.
  window.addEventListener("online", () => connection.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") connection.retryNow();
  });

  wireControls();
  for (const button of $$(".range")) button.setAttribute("aria-pressed", String(button.dataset.range === historyView.range));
  // The time axis moves on even when no sample arrives (and an event going on grows).
  setInterval(() => historyView.loaded && historyView.draw(), 30000);
  connection.connect();
})();
