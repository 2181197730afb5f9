// The fleet page: subscribes to FLEET over the WebSocket; the reply carries the whole list and
// FLEET_CHANGED messages carry the members that changed (null for one that left). Reconnects on its own.
(() => {
  "use strict";
  const rows = document.getElementById("fleet-rows");
  const status = document.getElementById("status");
  if (!rows) return; // MQTT is off
  const count = document.getElementById("fleet-count");
  const members = new Map();
  let scheduled = false;

  const cell = (text) => {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  };

  function render() {
    scheduled = false;
    const nodes = [...members.keys()].sort();
    const fragment = document.createDocumentFragment();
    for (const node of nodes) {
      const member = members.get(node);
      const tr = document.createElement("tr");
      tr.dataset.node = node;
      tr.dataset.online = member.online ? "true" : "false";
      tr.append(
        cell(member.name),
        cell(member.model || "unknown"),
        cell(member.online ? "online" : "offline"),
        cell(member.temperature === null ? "–" : `${member.temperature.toFixed(1)} °C`),
        cell(member.throttleWarnings.length ? member.throttleWarnings.join(", ") : "none"),
      );
      const link = document.createElement("td");
      if (member.url) {
        const a = document.createElement("a");
        a.href = member.url;
        a.textContent = "open";
        link.append(a);
      }
      tr.append(link);
      fragment.append(tr);
    }
    rows.replaceChildren(fragment);
    count.textContent = String(nodes.length);
  }

  function apply(map) {
    for (const [node, member] of Object.entries(map)) {
      if (member === null) members.delete(node);
      else members.set(node, member);
    }
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  }

  let delay = 250;
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let token = null;
    try {
      token = window.localStorage.getItem("endrpi.token");
    } catch (error) {
      token = null;
    }
    const url = `${scheme}://${window.location.host}/`;
    const socket = token ? new WebSocket(url, [`endrpi.token.${token}`]) : new WebSocket(url);
    socket.onopen = () => {
      delay = 250;
      socket.send(JSON.stringify({ action: "SUBSCRIBE", params: { topic: "FLEET" }, id: "fleet" }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.action === "SUBSCRIBE" && message.success) {
        members.clear();
        apply(message.data.current);
        status.dataset.state = "live";
        status.textContent = "Live";
      } else if (message.action === "FLEET_CHANGED" && message.success) {
        apply(message.data);
      } else if (!message.success) {
        status.dataset.state = "error";
        status.textContent = message.error || "Error";
      }
    };
    socket.onclose = () => {
      status.dataset.state = "connecting";
      status.textContent = "Reconnecting";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    };
  }
  connect();
})();
