// The lab dashboard: one card per server (GET /servers), fault switches that
// call each server's admin API (PATCH /servers/<name>/.../faults), and a live
// timeline of every journal (GET /events, server-sent events), and the live
// failover figures (GET /lab/figures: a chart per server over a rolling
// window, drawn by the same code as the run report, and each client's last
// failover). Plain JS, no build step, nothing loaded from elsewhere.

const $ = (selector, root = document) => root.querySelector(selector);

/** A fault's probability field, in percent, `value` while off. */
const percent = (value) => ({
  key: "probability",
  unit: "%",
  scale: 100,
  value,
});

/**
 * Fault switches: kind, label, and the field each one carries. The value a
 * switch shows while off is what it applies when turned on: a sane start
 * (30% of ACKs dropped, ACKs 200 ms late), not a total outage.
 */
const FAULTS = [
  { kind: "down", label: "down", main: true },
  { kind: "dropAck", label: "drop ACK", main: true, field: percent(30) },
  {
    kind: "delayAck",
    label: "delay ACK",
    main: true,
    field: { key: "ms", unit: "ms", scale: 1, value: 200 },
  },
  { kind: "blackHole", label: "black hole", main: true },
  { kind: "refuse", label: "refuse" },
  { kind: "reset", label: "reset", field: percent(30) },
  { kind: "duplicateAck", label: "duplicate ACK", field: percent(10) },
  { kind: "corruptAck", label: "corrupt ACK", field: percent(10) },
  {
    kind: "closeAfter",
    label: "close after",
    field: { key: "frames", unit: "frames", scale: 1, value: 5 },
  },
];

/** Routine traffic, hidden unless "traffic" is ticked: the bulk of the events. */
const ROUTINE = new Set([
  "frame_in",
  "frame_out",
  "ack_sent",
  "bytes_in",
  "bytes_out",
  "trickle",
  "message_stored",
  "message_delivered",
  "message_acked",
  "push_sent",
  "push_withheld",
  // the reference clients
  "queued",
  "sent",
  "ack",
  "deleted",
  "watchdog_sent",
  "watchdog_echo",
  "data_sent",
  "delivered",
  "received",
  "push",
  "ack_ignored",
  "connecting",
]);

function isRoutine(event) {
  if (ROUTINE.has(event.type)) return true;
  return event.type === "fault" &&
    (!event.fired || event.fault === "dropAck" || event.fault === "delayAck");
}

const state = {
  servers: new Map(), // name -> { summary, card, target }
  idle: {}, // source -> "No traffic: tracker moved to secondary 4s ago ..."
  events: [], // newest last
  paused: false,
  traffic: null,
};
const MAX_EVENTS = 2000;
const MAX_ROWS = 300;

function toast(message) {
  const element = $("#toast");
  element.textContent = message;
  element.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => element.hidden = true, 4000);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.message ?? `${method} ${path}: ${response.status}`);
  }
  return data;
}

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on")) {
      element.addEventListener(key.slice(2), value);
    } else if (value !== undefined && value !== false) {
      element.setAttribute(key, value === true ? "" : value);
    }
  }
  element.append(...children.filter((child) => child !== undefined));
  return element;
}

// ---- cards ----------------------------------------------------------------

function faultPath(server, target) {
  return `${server.summary.admin}${target.path}`;
}

function currentTarget(server) {
  const targets = server.summary.faults;
  return targets.find((t) => t.label === server.target) ?? targets[0];
}

function faultBody(spec, row) {
  if (!spec.field) return {};
  const input = $("input[type=number]", row);
  const raw = Number(input.value);
  const value = spec.field.scale === 100 ? raw / 100 : raw;
  return { [spec.field.key]: value };
}

async function setFault(server, spec, row, on) {
  const target = currentTarget(server);
  try {
    await api("PATCH", faultPath(server, target), {
      [spec.kind]: on ? faultBody(spec, row) : null,
    });
  } catch (error) {
    toast(`${server.summary.name}: ${error.message}`);
  }
  refreshSoon();
}

/**
 * A row with a labelled on/off switch for a server: `row` and `input` are
 * the row's and the checkbox's own attributes. Returns both elements.
 */
function switchRowOf(server, { label, row: rowAttrs, input, onchange }) {
  const row = el("div", { class: "fault", ...rowAttrs });
  const toggle = el("input", {
    type: "checkbox",
    role: "switch",
    ...input,
    "aria-label": `${label} on ${server.summary.name}`,
    onchange,
  });
  row.append(
    el("label", { class: "switch" }, toggle, el("span", { class: "slider" })),
    el("span", { class: "fault-label", text: label }),
  );
  return { row, toggle };
}

function faultRow(server, spec) {
  const { row, toggle } = switchRowOf(server, {
    label: spec.label,
    row: { "data-kind": spec.kind },
    input: { "data-fault": spec.kind },
    onchange: (event) => setFault(server, spec, row, event.target.checked),
  });
  if (spec.field) {
    const input = el("input", {
      type: "number",
      min: "0",
      max: spec.field.scale === 100 ? "100" : undefined,
      step: "any",
      value: String(spec.field.value),
      "aria-label": `${spec.label} ${spec.field.unit}`,
      onchange: () => {
        if (toggle.checked) setFault(server, spec, row, true);
      },
    });
    row.append(
      el(
        "span",
        { class: "field" },
        input,
        el("span", { class: "unit", text: spec.field.unit }),
      ),
    );
  }
  return row;
}

function switchRow(server, sw) {
  return switchRowOf(server, {
    label: sw.label,
    row: { "data-switch": sw.key },
    input: { "data-own": sw.key },
    onchange: async (event) => {
      const current = server.summary.switches.find((s) => s.key === sw.key);
      const path = event.target.checked ? current.onPath : current.offPath;
      try {
        await api("POST", `${server.summary.admin}${path}`);
      } catch (error) {
        toast(`${server.summary.name}: ${error.message}`);
      }
      refreshSoon();
    },
  }).row;
}

function counterTile(counter) {
  return el(
    "div",
    { class: "counter", "data-counter": counter.key },
    el("span", { class: "value", text: String(counter.value) }),
    el("span", { class: "label", text: counter.label }),
  );
}

async function upDown(server) {
  const down = server.summary.listening;
  try {
    for (const target of server.summary.faults) {
      await api("PATCH", faultPath(server, target), {
        down: down ? {} : null,
        ...(down ? {} : { refuse: null }),
      });
    }
  } catch (error) {
    toast(`${server.summary.name}: ${error.message}`);
  }
  refreshSoon();
}

function buildCard(summary) {
  const server = { summary, target: summary.faults[0]?.label };
  const card = el("article", {
    class: `card kind-${summary.kind}`,
    id: `card-${summary.name}`,
  });
  const button = el("button", {
    type: "button",
    class: "updown",
    title: "Take every listener of this server down, or bring it back up",
    onclick: () => upDown(server),
  });
  card.append(
    el(
      "header",
      {},
      el(
        "div",
        { class: "title" },
        el("h3", { text: summary.name }),
        el("span", { class: "kind", text: summary.kind }),
      ),
      el("span", { class: "status" }),
      button,
    ),
    el("div", { class: "addresses" }),
    el("div", { class: "view" }),
    el("div", { class: "counters" }, ...summary.counters.map(counterTile)),
    el("div", { class: "idle", hidden: true }),
    el("div", { class: "connections" }),
  );
  const faults = el("div", { class: "faults" });
  if (summary.switches.length > 0) {
    faults.append(
      el(
        "div",
        { class: "fault-list own" },
        ...summary.switches.map((sw) => switchRow(server, sw)),
      ),
    );
  }
  if (summary.faults.length > 1) {
    const tabs = el("div", { class: "tabs", role: "tablist" });
    for (const target of summary.faults) {
      tabs.append(el("button", {
        type: "button",
        role: "tab",
        "data-target": target.label ?? "",
        text: target.label ?? "all",
        onclick: () => {
          server.target = target.label;
          updateCard(server);
        },
      }));
    }
    faults.append(tabs);
  }
  const main = el("div", { class: "fault-list" });
  const more = el("div", { class: "fault-list" });
  // One listener: the Down button does what the down switch does.
  const single = summary.faults.length === 1;
  for (const spec of FAULTS) {
    const isMain = spec.main && !(single && spec.kind === "down");
    (isMain ? main : more).append(faultRow(server, spec));
  }
  faults.append(
    main,
    el(
      "details",
      { class: "more" },
      el("summary", { text: "more faults" }),
      more,
    ),
  );
  card.append(faults);
  server.card = card;
  return server;
}

function formatAge(openedAt) {
  const seconds = Math.max(0, Math.round((Date.now() - openedAt) / 1000));
  return seconds < 90 ? `${seconds}s` : `${Math.round(seconds / 60)}m`;
}

function renderView(view) {
  const rows = [];
  for (const [key, value] of Object.entries(view ?? {})) {
    if (value === null || value === undefined) continue;
    const items = Array.isArray(value) ? value : [value];
    rows.push(el(
      "div",
      { class: "view-row", "data-view": key },
      el("span", { class: "view-key", text: key }),
      ...(items.length === 0
        ? [el("span", { class: "muted", text: "none" })]
        : items.map((item) =>
          el("b", {
            class: Array.isArray(value) ? "chip" : "view-value",
            text: typeof item === "object"
              ? JSON.stringify(item)
              : String(item),
          })
        )),
    ));
  }
  return rows;
}

function updateCard(server) {
  const { summary, card } = server;
  card.classList.toggle("down", !summary.listening);
  $(".status", card).textContent = summary.listening ? "up" : "down";
  const button = $(".updown", card);
  button.textContent = summary.listening ? "Down" : "Up";
  button.classList.toggle("danger", summary.listening);

  $(".addresses", card).replaceChildren(
    ...summary.addresses.map((address) =>
      el(
        "span",
        { class: `address${address.listening ? "" : " off"}` },
        address.label ? el("b", { text: `${address.label} ` }) : undefined,
        `${address.hostname}:${address.port}`,
      )
    ),
  );
  $(".view", card).replaceChildren(...renderView(summary.view));

  for (const counter of summary.counters) {
    const tile = $(`[data-counter="${counter.key}"] .value`, card);
    if (tile && tile.textContent !== String(counter.value)) {
      tile.textContent = String(counter.value);
      tile.parentElement.classList.remove("bump");
      void tile.parentElement.offsetWidth;
      tile.parentElement.classList.add("bump");
    }
  }

  const connections = summary.connections;
  const shown = 3;
  const list = connections.slice(0, shown).map((connection) =>
    el(
      "li",
      {},
      el("span", { class: "conn-id", text: `#${connection.id}` }),
      el("span", {
        class: "conn-peer",
        text: `${
          connection.listener ? `${connection.listener} ` : ""
        }${connection.peer}`,
      }),
      el("span", {
        class: "conn-tags",
        text: [...new Set(Object.values(connection.tags ?? {}))].join(" "),
      }),
      el("span", {
        class: "conn-age",
        text: `${connection.framesIn}↓ ${formatAge(connection.openedAt)}`,
      }),
    )
  );
  $(".connections", card).replaceChildren(
    el("div", {
      class: "conn-count",
      text: `${connections.length} connection${
        connections.length === 1 ? "" : "s"
      }`,
    }),
    el("ul", {}, ...list),
    ...(connections.length > shown
      ? [
        el("div", {
          class: "muted",
          text: `+${connections.length - shown} more`,
        }),
      ]
      : []),
  );

  for (const sw of summary.switches) {
    const row = $(`[data-switch="${sw.key}"]`, card);
    const toggle = $("input", row);
    if (toggle.checked !== sw.on) toggle.checked = sw.on;
    row.classList.toggle("on", sw.on);
  }

  const target = currentTarget(server);
  for (const tab of card.querySelectorAll(".tabs button")) {
    const label = tab.dataset.target || undefined;
    tab.setAttribute("aria-selected", String(label === target?.label));
    const faulted = Object.keys(
      summary.faults.find((t) => t.label === label)?.faults ?? {},
    ).length > 0;
    tab.classList.toggle("faulted", faulted);
    tab.title = faulted ? `${label}: faults on` : `${label}: no faults`;
  }
  const faults = target?.faults ?? {};
  let hiddenOn = 0;
  for (const spec of FAULTS) {
    const row = $(`.fault[data-kind="${spec.kind}"]`, card);
    const toggle = $("input[data-fault]", row);
    const on = faults[spec.kind] !== undefined;
    if (toggle.checked !== on) toggle.checked = on;
    row.classList.toggle("on", on);
    if (on && row.closest(".more")) hiddenOn++;
    const input = $("input[type=number]", row);
    if (input && !on && row.dataset.wasOn === "true") {
      // Turned off: show the default to apply again, not the last value.
      input.value = String(spec.field.value);
    }
    row.dataset.wasOn = String(on);
    if (input && on && document.activeElement !== input) {
      const value = faults[spec.kind][spec.field.key] ??
        (spec.field.key === "probability" ? 1 : undefined);
      if (value !== undefined) {
        input.value = String(
          spec.field.scale === 100 ? Math.round(value * 1000) / 10 : value,
        );
      }
    }
  }
  $(".more summary", card).textContent = hiddenOn
    ? `more faults (${hiddenOn} on)`
    : "more faults";
  renderIdle(server);
}

/** The card's "no traffic: clients moved away" line, from the figures. */
function renderIdle(server) {
  const { name } = server.summary;
  const lines = Object.entries(state.idle)
    .filter(([source]) => source === name || source.startsWith(`${name}/`))
    .map(([source, text]) =>
      source === name ? text : `${source.slice(name.length + 1)}: ${text}`
    );
  const idle = $(".idle", server.card);
  // Only an up server is quiet because its clients moved away.
  idle.hidden = lines.length === 0 || !server.summary.listening;
  idle.textContent = lines.join(" · ");
}

async function refreshServers() {
  const { servers } = await api("GET", "/servers");
  const cards = $("#cards");
  const select = $("#filter-server");
  for (const summary of servers) {
    let server = state.servers.get(summary.name);
    if (!server) {
      server = buildCard(summary);
      state.servers.set(summary.name, server);
      cards.append(server.card);
      select.append(el("option", { value: summary.name, text: summary.name }));
    }
    server.summary = summary;
    updateCard(server);
  }
}

let refreshTimer;
let refreshing = false;
function refreshSoon(delay = 150) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = undefined;
    if (refreshing) return refreshSoon(delay);
    refreshing = true;
    try {
      await refreshServers();
    } catch (error) {
      setLive(false, error.message);
    } finally {
      refreshing = false;
    }
  }, delay);
}

// ---- lab and traffic --------------------------------------------------------

function renderTraffic(traffic) {
  state.traffic = traffic;
  const button = $("#traffic-toggle");
  button.textContent = traffic.running ? "Stop traffic" : "Start traffic";
  button.classList.toggle("running", traffic.running);
  button.disabled = traffic.clients.length === 0;
  $("#traffic-clients").replaceChildren(
    ...traffic.clients.map((client) =>
      el(
        "span",
        {
          class: `client${client.running ? " running" : ""}`,
          "data-client": client.name,
          title: `${client.name} (${client.kind}): ${client.summary}`,
        },
        el("b", { text: client.name }),
        ` ${client.summary}`,
      )
    ),
  );
  if (traffic.clients.length === 0) {
    $("#traffic-clients").append(
      el("span", { class: "muted", text: "no clients" }),
    );
  }
}

async function refreshLab() {
  const lab = await api("GET", "/lab");
  $("#lab-name").textContent = lab.name ?? "lab";
  $("#lab-seed").textContent = String(lab.seed);
  $("#lab-name").title = [lab.source, lab.description].filter(Boolean).join(
    ": ",
  );
  document.title = `${lab.name ?? "lab"} · failover-toolkit`;
  renderTraffic(lab.traffic);
}

$("#traffic-toggle").addEventListener("click", async () => {
  const running = state.traffic?.running;
  try {
    renderTraffic(
      await api("POST", `/lab/traffic/${running ? "stop" : "start"}`),
    );
  } catch (error) {
    toast(error.message);
  }
});

// ---- failover figures ------------------------------------------------------

function ms(value) {
  return value === null || value === undefined ? "–" : `${value} ms`;
}

function renderFigures(data) {
  state.idle = data.idle ?? {};
  for (const server of state.servers.values()) renderIdle(server);
  const charts = $("#charts");
  const seen = new Set();
  for (const chart of data.charts) {
    seen.add(chart.source);
    let box = charts.querySelector(
      `[data-chart="${CSS.escape(chart.source)}"]`,
    );
    if (!box) {
      box = el("div", { class: "chart", "data-chart": chart.source });
      charts.append(box);
    }
    // The server draws the SVG (the report's own chart code); it escapes
    // every text it puts in.
    box.innerHTML = chart.svg;
    box.classList.toggle("idle", Boolean(chart.idle));
    box.title = chart.idle ?? "";
  }
  for (const box of [...charts.children]) {
    if (!seen.has(box.dataset.chart)) box.remove();
  }
  const rows = data.clients.map((client) => {
    const last = client.last;
    return el(
      "tr",
      { "data-client": client.client },
      el("td", {}, el("b", { text: client.client })),
      el("td", { text: client.on ?? "–" }),
      el("td", {
        text: last
          ? `${last.faults.join(", ")} on ${last.source}, ${
            Math.round(last.agoMs / 1000)
          }s ago`
          : "no failover yet",
      }),
      el("td", {
        class: "num",
        "data-figure": "failoverMs",
        text: ms(last?.failoverMs),
      }),
      el("td", { class: "num", text: ms(last?.returnMs) }),
      el("td", {
        class: "num",
        text: last
          ? `${last.ackGapOpen ? "≥" : ""}${ms(last.longestAckGapMs)}`
          : "–",
      }),
      el("td", {
        class: `num${client.lost ? " bad" : ""}`,
        "data-figure": "lost",
        text: client.decoded ? String(client.lost) : "–",
      }),
      el("td", {
        class: "num",
        text: client.decoded ? String(client.duplicated) : "–",
      }),
      el("td", { class: "num", text: String(client.switches) }),
    );
  });
  $("#failovers tbody").replaceChildren(
    ...(rows.length ? rows : [
      el(
        "tr",
        {},
        el("td", {
          colspan: "9",
          class: "muted",
          text: "no client seen yet",
        }),
      ),
    ]),
  );
}

// One request at a time: a slow analysis skips a tick rather than piling up.
let figuresInFlight = false;
async function refreshFigures() {
  if (figuresInFlight) return;
  figuresInFlight = true;
  try {
    renderFigures(await api("GET", "/lab/figures"));
  } finally {
    figuresInFlight = false;
  }
}

// ---- timeline -------------------------------------------------------------

function clock(wall) {
  const date = new Date(wall);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${
    pad(date.getSeconds())
  }.${pad(date.getMilliseconds(), 3)}`;
}

const HIDDEN_FIELDS = new Set([
  "seq",
  "time",
  "wall",
  "server",
  "type",
  "conn",
]);

function describe(event) {
  const conn = event.conn !== undefined ? `#${event.conn} ` : "";
  const where = event.channel
    ? `${event.channel} `
    : event.listener
    ? `${event.listener} `
    : "";
  switch (event.type) {
    case "frame_in":
    case "frame_out":
      return `${where}${conn}${JSON.stringify(event.frame)}`;
    case "ack_sent":
    case "ack_dropped":
    case "ack_delayed":
      return `${where}${conn}${event.reply ? `${event.reply} ` : ""}${
        event.id ?? ""
      }${event.ms !== undefined ? ` +${Math.round(event.ms)}ms` : ""}`;
    case "connected":
      if (event.peer) return `${where}${conn}from ${event.peer}`;
      return `${conn}${fields(event)}`;
    case "closed":
      return `${where}${conn}${event.how ?? ""} by ${event.by ?? "?"}${
        event.reason ? ` (${event.reason})` : ""
      }`;
    case "fault":
      return `${where}${conn}${event.fault} ${event.fired ? "fired" : "held"}${
        event.id ? ` ${event.id}` : ""
      }`;
    case "faults_changed": {
      const kinds = Object.keys(event.faults ?? {});
      return `${where}${kinds.length ? kinds.join(", ") : "none"}`;
    }
    default:
      return `${conn}${fields(event)}`;
  }
}

/** The fields of an event other than the common ones, as `key=value`. */
function fields(event) {
  return Object.entries(event)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) =>
      `${key}=${
        typeof value === "object" && value !== null
          ? JSON.stringify(value)
          : value
      }`
    )
    .join(" ");
}

function severity(event) {
  if (
    ["ack_dropped", "closed", "stopped_listening", "bad_input", "error"]
      .includes(event.type)
  ) {
    return "bad";
  }
  if (event.type === "fault" && event.fired) return "bad";
  if (["faults_changed", "fault_expired", "ack_delayed"].includes(event.type)) {
    return "warn";
  }
  if (["listening", "connected", "traffic_started"].includes(event.type)) {
    return "good";
  }
  return "";
}

function matches(event) {
  if (!$("#show-traffic").checked && isRoutine(event)) return false;
  const server = $("#filter-server").value;
  if (server && event.server !== server && event.client !== server) {
    return false;
  }
  const words = $("#filter").value.trim().toLowerCase().split(/\s+/).filter(
    Boolean,
  );
  if (words.length === 0) return true;
  const text = `${event.server} ${event.type} ${describe(event)}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

function row(event) {
  return el(
    "li",
    {
      class: `event ${severity(event)}`,
      "data-type": event.type,
      "data-server": event.server,
    },
    el("span", { class: "time", text: clock(event.wall) }),
    el("span", { class: "server", text: event.server }),
    el("span", { class: "type", text: event.type }),
    el("span", { class: "detail", text: describe(event) }),
  );
}

function renderTimeline() {
  const shown = [];
  for (
    let i = state.events.length - 1;
    i >= 0 && shown.length < MAX_ROWS;
    i--
  ) {
    if (matches(state.events[i])) shown.push(row(state.events[i]));
  }
  $("#timeline").replaceChildren(...shown);
}

let pendingRows = [];
let rowTimer;
function addEvent(event) {
  state.events.push(event);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, 500);
  if (event.type !== "frame_out" && event.server !== "lab") refreshSoon();
  if (event.server === "lab" && /^traffic_|^client/.test(event.type)) {
    refreshLab().catch(() => {});
  }
  if (state.paused || !matches(event)) return;
  pendingRows.push(event);
  rowTimer ??= requestAnimationFrame(() => {
    rowTimer = undefined;
    const list = $("#timeline");
    const rows = pendingRows.reverse().map(row);
    pendingRows = [];
    list.prepend(...rows);
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
  });
}

for (const id of ["#filter", "#filter-server", "#show-traffic"]) {
  $(id).addEventListener("input", renderTimeline);
}
$("#pause").addEventListener("click", () => {
  state.paused = !state.paused;
  $("#pause").textContent = state.paused ? "Resume" : "Pause";
  $("#pause").classList.toggle("on", state.paused);
  if (!state.paused) renderTimeline();
});

function setLive(on, why) {
  const live = $("#live");
  live.textContent = on ? "live" : "offline";
  live.classList.toggle("on", on);
  live.title = why ?? (on ? "Receiving live events" : "Not connected");
}

/** Reads GET /events (server-sent events) with fetch, reconnecting on loss. */
async function streamEvents() {
  let delay = 500;
  for (;;) {
    try {
      const response = await fetch("/events");
      if (!response.ok || !response.body) {
        throw new Error(`status ${response.status}`);
      }
      setLive(true);
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream())
        .getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).replace(/^ /, ""))
            .join("\n");
          const type = block.split("\n").find((line) =>
            line.startsWith("event:")
          );
          if (!data || type === "event: ready") continue;
          try {
            addEvent(JSON.parse(data));
          } catch {
            // Not an event: skip it.
          }
        }
      }
      throw new Error("stream ended");
    } catch (error) {
      setLive(false, error.message);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

async function start() {
  try {
    await refreshLab();
    await refreshServers();
    const { events } = await api("GET", "/journal?limit=150");
    for (const event of events) addEvent(event);
  } catch (error) {
    toast(`Cannot load the lab: ${error.message}`);
  }
  streamEvents();
  setInterval(() => refreshSoon(0), 2000);
  setInterval(() => refreshLab().catch(() => {}), 3000);
  refreshFigures().catch(() => {});
  setInterval(() => refreshFigures().catch(() => {}), 2000);
}

start();
