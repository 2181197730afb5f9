// Endrpi dashboard: reads and drives the Pi over the WebSocket API at "/".
//
// Nothing is polled. On every connection the page SUBSCRIBEs to the pins and the readings (see
// TOPICS); each SUBSCRIBE reply carries the topic's current value and every later change arrives
// as a passive message, so the page shows a change made anywhere (another browser, REST, an input
// edge) as soon as the server publishes it. When the connection drops the page reconnects on its
// own (at most ~1 s apart, so it is back within ~1 s of the server) and subscribes again: the
// replies carry the state as it is now, so nothing missed while offline stays missed.
"use strict";

(() => {
  const REQUEST_TIMEOUT_MS = 8000;
  const BACKOFF_FIRST_MS = 250;
  const BACKOFF_MAX_MS = 1000;
  const RESUBSCRIBE_AFTER_MS = 5000; // a topic whose current value could not be read is tried again
  // Hook for token authentication: a token kept here is offered as the WebSocket subprotocol
  // "endrpi.token.<token>", after "endrpi" (the one the server echoes). Without one it connects as always.
  const TOKEN_STORAGE_KEY = "endrpi.token";

  const PIN_READ = "READ_PIN_CONFIGURATIONS";
  const PIN_UPDATE = "UPDATE_PIN_CONFIGURATIONS";
  // What the page subscribes to, and with which params. Readings that change rarely are sent
  // only when they change; uptime ticks every second anyway.
  const TOPICS = {
    PINS: {},
    TEMPERATURE: { intervalMs: 1000, onChange: true },
    THROTTLE: { intervalMs: 500, onChange: true },
    FREQUENCY: { intervalMs: 1000, onChange: true },
    MEMORY: { intervalMs: 2000, onChange: true },
    UPTIME: { intervalMs: 1000 },
  };

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

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

  // --- Rendering: one renderer per action --------------------------------------------------------

  const pins = new Map(); // "GPIO17" -> last PinConfiguration
  let selectedPin = null;

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

  function meter(element, fraction) {
    const clamped = Math.max(0, Math.min(1, fraction));
    element.style.width = `${(clamped * 100).toFixed(1)}%`;
    element.classList.toggle("warm", clamped >= 0.7 && clamped < 0.85);
    element.classList.toggle("hot", clamped >= 0.85);
  }

  function levelText(configuration) {
    const state = configuration.state;
    if (state === null || state === undefined) return { text: "", kind: "" };
    if (state === 0) return { text: "LOW", kind: "low" };
    if (state === 1) return { text: "HIGH", kind: "high" };
    return { text: `PWM ${Math.round(state * 100)}%`, kind: "pwm" };
  }

  // One renderer per topic; a SUBSCRIBE reply's `current` and the topic's passive messages both go here.
  const renderers = {
    TEMPERATURE(data) {
      const celsius = data.systemOnChip.quantity;
      $("#temperature").textContent = number(celsius, 1);
      meter($("#temperature-meter"), celsius / 85);
    },
    FREQUENCY(data) {
      $("#clock-arm").textContent = number(data.arm.quantity / 1e6, 0);
      $("#clock-core").textContent = number(data.core.quantity / 1e6, 0);
    },
    MEMORY(data) {
      const total = data.total.quantity;
      const available = data.available.quantity;
      $("#memory-used").textContent = kilobytes(total - available);
      $("#memory-available").textContent = kilobytes(available);
      $("#memory-total").textContent = kilobytes(total);
      meter($("#memory-meter"), total > 0 ? (total - available) / total : 0);
    },
    UPTIME(data) {
      $("#uptime").textContent = data.formatted;
    },
    THROTTLE(data) {
      for (const element of $$("[data-flag]")) {
        const flag = element.dataset.flag;
        const raised = data[flag] === true;
        const past = flag.endsWith("HasOccurred");
        element.className = `flag ${raised ? (past ? "past" : "bad") : "good"}`;
        element.textContent = raised ? (past ? "Occurred" : "Active") : past ? "Never" : "OK";
        element.title = flag;
      }
    },
    PINS(data) {
      // A SUBSCRIBE reply carries every pin; a PIN_CONFIGURATIONS_CHANGED message only those that changed.
      for (const [name, configuration] of Object.entries(data)) renderPin(name, configuration);
      if (selectedPin !== null && selectedPin in data) renderEditorNow();
    },
  };

  function renderPin(name, configuration) {
    const element = $(`.pin[data-pin="${name}"]`);
    if (element === null) return;
    const previous = pins.get(name);
    pins.set(name, configuration);
    const level = levelText(configuration);
    const output = configuration.io === "OUTPUT";
    element.dataset.io = configuration.io;
    element.dataset.level = level.kind;
    const io = $(".badge.io", element);
    io.textContent = output ? "OUT" : "IN";
    io.className = `badge io ${output ? "out" : "in"}`;
    const levelBadge = $(".badge.level", element);
    levelBadge.textContent = level.text;
    levelBadge.className = `badge level ${level.kind}`;
    $(".badge.pull", element).textContent = output || !configuration.pull ? "" : `PULL ${configuration.pull}`;
    $(".pin-label", element).textContent = configuration.label || "";
    $(".pin-label", element).title = configuration.label || "";
    $(".pin-toggle", element).hidden = !output;
    if (previous && (previous.io !== configuration.io || previous.state !== configuration.state)) {
      element.classList.remove("changed");
      void element.offsetWidth; // restart the animation
      element.classList.add("changed");
    }
  }

  // --- Errors: a failed reading marks its card; any other error becomes a toast --------------------

  function showCardError(topic, message) {
    const card = $(`[data-topic="${topic}"]`);
    if (card === null) return false;
    const slot = $(".card-error", card);
    slot.textContent = message || "";
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
        showCardError(topic, "");
        renderers[topic](reply.data.current);
      } else {
        // The current value could not be read (the topic is left unsubscribed): say so, try again.
        if (!showCardError(topic, reply.error)) toast(`Subscribing to ${topic} failed`, reply.error);
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
        showCardError(topic, envelope.error); // a reading that failed this time; the next may work
      }
    }
  }

  // --- The platform line, from REST once per connection ------------------------------------------

  async function loadPlatform() {
    const line = $("#platform");
    try {
      const response = await fetch("/system/platform", { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
      const os = body.operatingSystem;
      line.replaceChildren();
      const host = document.createElement("strong");
      host.textContent = body.networkName;
      line.append(host, ` · ${body.machineType} · ${os.name} ${os.release} · ${os.version}`);
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
    return reply;
  }

  function selectPin(name) {
    selectedPin = name;
    for (const element of $$(".pin.gpio")) element.classList.toggle("selected", element.dataset.pin === name);
    const element = $(`.pin[data-pin="${name}"]`);
    $("#editor-empty").hidden = true;
    const form = $("#editor-form");
    form.hidden = false;
    $("#editor-name").textContent = name;
    $("#editor-physical").textContent = `physical pin ${element.dataset.physical}`;
    $("#editor-message").textContent = "";
    $("#editor-message").className = "editor-message";
    const configuration = pins.get(name);
    if (configuration) {
      form.elements.io.value = configuration.io;
      form.elements.pull.value = configuration.pull || "FLOATING";
      form.elements.state.value = configuration.state === 1 ? "1" : "0";
    }
    renderEditorNow();
    syncEditorFields();
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
    $("#editor-now").textContent = `${configuration.io.toLowerCase()}, ${level.text || "no level"}${pull}`;
  }

  function syncEditorFields() {
    const io = $("#editor-form").elements.io.value;
    $("#editor-pull").hidden = io !== "INPUT";
    $("#editor-state").hidden = io !== "OUTPUT";
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
          else if (selectedPin === name) selectPin(name);
        } catch (error) {
          toast(`${name} was not changed`, error.message);
        } finally {
          toggle.disabled = false;
        }
      });
    }
    const form = $("#editor-form");
    form.addEventListener("change", syncEditorFields);
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
      const configuration =
        io === "INPUT" ? { io, pull: form.elements.pull.value || "FLOATING" } : { io, state: Number(form.elements.state.value || 0) };
      const apply = $("#editor-apply");
      apply.disabled = true;
      message.textContent = "Applying…";
      message.className = "editor-message";
      try {
        const reply = await updatePin(selectedPin, configuration);
        message.textContent = reply.success ? `${selectedPin} updated.` : reply.error;
        message.className = `editor-message ${reply.success ? "ok" : "error"}`;
      } catch (error) {
        message.textContent = error.message;
        message.className = "editor-message error";
      } finally {
        apply.disabled = false;
      }
    });
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
  const connection = new Connection(`${scheme}://${window.location.host}/`, {
    onOpen() {
      setStatus("live", "Live");
      hideBanner();
      loadPlatform();
      subscriber.subscribeAll();
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
  connection.connect();
})();
