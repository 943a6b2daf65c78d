// Clip Live dashboard: live charts, captions, clips, start/stop. Plain JS, no build step.
// On connect the server first sends a backlog (the last minutes), so a late page is not empty.
// The token comes from ?token= (then it is removed from the address bar) or localStorage.
"use strict";

const TOKEN_KEY = "clipLiveToken";
const MAX_CAPTIONS = 30;
const $ = (id) => document.getElementById(id);

// ---- Token ----------------------------------------------------------------------------------

function takeTokenFromUrl() {
  const params = new URLSearchParams(location.search);
  const given = params.get("token");
  if (given) {
    localStorage.setItem(TOKEN_KEY, given);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
}

function token() { return localStorage.getItem(TOKEN_KEY) || ""; }

// A file link (video, picture) with the token, for an API that wants it on reads too.
function withToken(url) {
  return token() ? `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token())}`
                 : url;
}

function askToken(note) {
  $("token-note").textContent = note || "";
  $("token-form").hidden = false;
  $("token-input").focus();
}

// ---- Talking to the API ---------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { "Accept": "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET" && !token()) {
    askToken("this needs the API token"); throw new Error("no token");
  }
  if (token()) headers["Authorization"] = "Bearer " + token();   // reads may need it too
  const response = await fetch(path, {
    method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) { askToken("the token was refused"); }
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : response.statusText;
    throw new Error(detail);
  }
  return data;
}

// ---- Captions -------------------------------------------------------------------------------

function showCaption(channel, caption) {
  if (!caption.final) {
    $("caption-interim").textContent = `${channel}: ${caption.text}`;
    return;
  }
  $("caption-interim").textContent = "";
  const item = document.createElement("li");
  item.textContent = `[${channel} ${caption.t.toFixed(1)} s] ${caption.text}`;
  const list = $("captions");
  list.prepend(item);
  while (list.children.length > MAX_CAPTIONS) list.lastChild.remove();
}

// ---- Channels -------------------------------------------------------------------------------

async function loadChannels() {
  try { showChannels(await api("/api/channels")); }
  catch (err) { $("monitor-note").textContent = "cannot list channels: " + err.message; }
}

function showChannels(channels) {
  const list = $("channels");
  list.replaceChildren();
  for (const { channel, state, model } of channels) {
    const item = document.createElement("li");
    item.dataset.channel = channel;
    const name = span("name", channel + (state.url ? ` (${state.url})` : ""));
    const status = span("state", state.state + (state.detail ? `: ${state.detail}` : ""));
    const active = ["starting", "live", "reconnecting"].includes(state.state);
    item.append(name, status);
    if (model) {
      const shown = span("model", modelText(model));
      shown.title = `trained on ${model.trained_on}`;
      item.append(shown);
    }
    if (active) {
      item.append(button("Clip now", "clip", () => askClip(channel)),
                  button("Stop", "stop", () => stopChannel(channel)));
    }
    list.append(item);
  }
}

async function startChannel(event) {
  event.preventDefault();
  const body = { url: $("start-url").value.trim() };
  const channel = $("start-channel").value.trim();
  if (channel) body.channel = channel;
  try {
    const started = await api("/api/channels", { method: "POST", body });
    $("monitor-note").textContent = `starting ${started.channel}`;
    setTimeout(loadChannels, 500);
  } catch (err) { $("monitor-note").textContent = "not started: " + err.message; }
}

async function stopChannel(channel) {
  try { await api(`/api/channels/${channel}`, { method: "DELETE" }); setTimeout(loadChannels, 500); }
  catch (err) { $("monitor-note").textContent = "not stopped: " + err.message; }
}

async function askClip(channel) {
  try {
    const asked = await api(`/api/channels/${channel}/clip`, { method: "POST", body: {} });
    showJob({ job_id: asked.job_id, channel, status: "queued", percent: 0, detail: "asked" });
  } catch (err) { $("monitor-note").textContent = "no clip: " + err.message; }
}

// ---- Clip jobs and clips --------------------------------------------------------------------

function showJob(progress) {
  let item = document.querySelector(`#jobs li[data-job="${CSS.escape(progress.job_id)}"]`);
  if (!item) {
    item = document.createElement("li");
    item.dataset.job = progress.job_id;
    item.append(span("title", `${progress.channel} job ${progress.job_id}`),
                document.createElement("progress"), span("state", ""));
    $("jobs").prepend(item);
  }
  item.querySelector("progress").max = 100;
  item.querySelector("progress").value = progress.percent;
  item.querySelector(".state").textContent = progress.status;
  const short = progress.job_id.startsWith("export-") ? progress.job_id.slice(7) : "";
  if (short && progress.status === "done") showShort(short);
  if (short && progress.status === "failed") $("player-title").textContent = progress.detail;
  if (progress.status === "done" || progress.status === "failed") {
    setTimeout(() => item.remove(), progress.status === "done" ? 5000 : 30000);
  }
}

async function loadClips() {
  try {
    const page = await api("/api/clips?limit=50");
    $("clips").replaceChildren(...page.items.map(clipItem));
    showEmpty();
  } catch (err) { $("player-title").textContent = "cannot list clips: " + err.message; }
}

function showEmpty() {
  $("no-clips").hidden = $("clips").children.length > 0;
}

function clipItem(clip) {
  const item = document.createElement("li");
  item.dataset.clipId = clip.clip_id;
  const when = clip.wall ? new Date(clip.wall * 1000).toLocaleTimeString() : "";
  const length = clip.duration ? `${clip.duration.toFixed(1)} s` : "";
  const about = document.createElement("div");
  about.className = "about";
  about.append(span("title", `${clip.channel} ${when} ${length}`), span("why", whyText(clip)));
  if (clip.thumbnail_url) {
    const picture = Object.assign(document.createElement("img"), {
      className: "thumb", src: withToken(clip.thumbnail_url), alt: "a picture from the clip" });
    picture.addEventListener("click", () => play(clip));
    item.append(picture);
  }
  item.append(about, span("verdict", ""),
              button("Play", "play", () => play(clip)),
              button("Keep", "keep", () => judge(item, clip.clip_id, "keep")),
              button("Drop", "drop", () => judge(item, clip.clip_id, "drop")),
              button("Short", "short", () => makeShort(clip.clip_id)));
  setVerdict(item, clip.verdict);
  return item;
}

// The model that judges a channel: its own or the global one, how good, what it learned from.
function modelText(model) {
  const auc = model.auc_heldout === null || model.auc_heldout === undefined
    ? "" : ` · held-out AUC ${model.auc_heldout.toFixed(2)}`;
  const seconds = model.labelled_seconds ? ` · ${model.labelled_seconds} labelled s` : "";
  return `model: ${model.scope} ${model.version}${auc}${seconds}`;
}

// Why the clip was made: the rule, the model's P, the votes, what pushed P up most, and when.
function whyText(clip) {
  const why = clip.why || { trigger: clip.reason || "", t: clip.t };
  const parts = [why.trigger];
  if (why.probability !== null && why.probability !== undefined) {
    parts.push(`P ${why.probability.toFixed(2)}`);
  }
  const votes = Object.entries(why.votes || {});
  if (votes.length) {
    parts.push("votes: " + (votes.filter(([, yes]) => yes).map(([name]) => name).join(", ")
                            || "none"));
  }
  const top = Object.entries(why.contributions || {}).sort((a, b) => b[1] - a[1]).slice(0, 3);
  if (top.length) {
    parts.push("top: " + top.map(([name, v]) => `${name} ${v >= 0 ? "+" : ""}${v.toFixed(2)}`)
                            .join(", "));
  }
  const t = why.t ?? clip.t;
  if (t !== null && t !== undefined) parts.push(`at ${streamTime(t)} stream time`);
  if (why.model) parts.push(`judged by ${why.model.scope} model ${why.model.version}`);
  return parts.filter(Boolean).join(" · ");
}

function streamTime(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function setVerdict(item, verdict) {
  item.classList.remove("keep", "drop");
  if (verdict) item.classList.add(verdict);
  item.querySelector(".verdict").textContent = verdict ? (verdict === "keep" ? "kept" : "dropped")
                                                       : "";
}

function addClip(clip) {
  document.querySelector(`#clips li[data-clip-id="${CSS.escape(clip.clip_id)}"]`)?.remove();
  $("clips").prepend(clipItem(clip));
  showEmpty();
}

async function judge(item, clipId, verdict) {
  try { setVerdict(item, (await api(`/api/clip/${clipId}/${verdict}`, { method: "POST" })).verdict); }
  catch (err) { $("player-title").textContent = `not ${verdict}: ${err.message}`; }
}

// A 9:16 short of the clip, made in the background: its progress shows in the jobs list, and
// the player shows the short when it is done (see showJob).
async function makeShort(clipId) {
  try {
    await api(`/api/clip/${encodeURIComponent(clipId)}/export`, { method: "POST" });
    $("player-title").textContent = `making a short of ${clipId}...`;
  } catch (err) { $("player-title").textContent = `no short: ${err.message}`; }
}

function showShort(clipId) {
  const player = $("player");
  player.hidden = false;
  player.replaceChildren();
  player.src = withToken(`/api/clip/${encodeURIComponent(clipId)}/short`);
  $("player-title").textContent = `short of ${clipId}`;
}

async function play(clip) {
  const player = $("player");
  player.hidden = false;
  player.replaceChildren();
  player.src = withToken(clip.video_url);
  $("player-title").textContent = clip.file || clip.clip_id;
  try {   // Browsers read WebVTT, not SRT: turn the clip's .srt into VTT for the track.
    const srt = await (await fetch(withToken(clip.captions_url))).text();
    if (srt.trim()) {
      const vtt = "WEBVTT\n\n" + srt.replace(/(\d\d:\d\d:\d\d),(\d\d\d)/g, "$1.$2");
      const track = Object.assign(document.createElement("track"), {
        kind: "captions", label: "captions", default: true,
        src: URL.createObjectURL(new Blob([vtt], { type: "text/vtt" })) });
      player.append(track);
    }
  } catch (err) { /* a clip with no captions still plays */ }
  player.play().catch(() => {});
}

// ---- The websocket --------------------------------------------------------------------------

let retryMs = 500;
let socket = null;

function connect() {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  if (!token()) { askToken(); return; }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ token: token(), channels: "*" }));
  ws.onmessage = (message) => handle(JSON.parse(message.data));
  ws.onclose = (event) => {
    setStatus(false);
    if (event.code === 4401) { askToken("the token was refused"); return; }
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
}

function setStatus(on) {
  $("ws-status").textContent = on ? "live" : "offline";
  $("ws-status").className = "badge " + (on ? "on" : "off");
}

// Per stream, the newest id handled: a backlog sent again after a reconnect adds nothing twice.
const lastIds = {};
const PER_CHANNEL = new Set(["event", "chat", "face", "new_spike", "caption"]);

function isNew(event) {
  if (!PER_CHANNEL.has(event.type) || !event.id) return true;
  const key = `${event.type} ${event.channel}`;
  const [ms, n] = event.id.split("-").map(Number);
  const last = lastIds[key];
  if (last && (ms < last[0] || (ms === last[0] && n <= last[1]))) return false;
  lastIds[key] = [ms, n];
  return true;
}

function handle(event) {
  if (!isNew(event)) return;
  switch (event.type) {
    case "hello": setStatus(true); retryMs = 500; break;
    case "backlog": event.events.forEach(handle); break;
    case "event": case "chat": case "face": addPoint(event.type, event.channel, event.data); break;
    case "new_spike": markSpike(event.data); break;
    case "caption": showCaption(event.channel, event.data); break;
    case "clipProgress": showJob(event.data); break;
    case "new_clip": addClip({ ...event.data, verdict: null }); break;
    case "channel_state": loadChannels(); break;
    case "vodProgress": showVod(event.data); break;
  }
}

// ---- Small helpers and start ----------------------------------------------------------------

function span(kind, text) {
  const element = document.createElement("span");
  element.className = kind;
  element.textContent = text;
  return element;
}

function button(text, kind, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = kind;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

function start() {
  takeTokenFromUrl();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-form").hidden = true;
    connect();
  });
  $("token-change").addEventListener("click", () => askToken());
  $("start-form").addEventListener("submit", startChannel);
  setUpCharts();
  setInterval(flushPoints, 250);
  setInterval(loadChannels, 5000);
  loadChannels();
  loadClips();
  connect();
}

start();
