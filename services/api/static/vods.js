"use strict";
// VOD jobs on the dashboard: start one, watch its progress (the `vodProgress` event), and
// play its clips or open its report when it is done. Uses api(), withToken() and span() from
// app.js.

async function startVod(event) {
  event.preventDefault();
  const body = { source: $("vod-source").value.trim(), top: Number($("vod-top").value) || 10 };
  const chat = $("vod-chat").value.trim();
  if (chat) body.chat = chat;
  try {
    showVod(await api("/api/vods", { method: "POST", body }));
    $("vod-note").textContent = "";
  } catch (err) { $("vod-note").textContent = "not started: " + err.message; }
}

async function loadVods() {
  try { (await api("/api/vods")).reverse().forEach(showVod); }
  catch (err) { /* no API yet: the websocket brings them */ }
}

function showVod(progress) {
  let item = document.querySelector(`#vods li[data-job="${CSS.escape(progress.job_id)}"]`);
  if (!item) {
    item = document.createElement("li");
    item.dataset.job = progress.job_id;
    item.append(span("title", progress.source.split("/").pop()),
                document.createElement("progress"), span("state", ""),
                document.createElement("div"));
    $("vods").prepend(item);
  }
  const bar = item.querySelector("progress");
  bar.max = Math.max(1, progress.length_s);
  bar.value = progress.done_s;
  const speed = progress.speed > 0 ? `, ${progress.speed.toFixed(1)}× real time` : "";
  const skipped = progress.skipped.length ? `, ${progress.skipped.length} stretch(es) skipped` : "";
  item.querySelector(".state").textContent =
    `${progress.stage}${speed}${skipped} ${progress.detail || ""}`.trim();
  if (progress.stage === "done") showVodResults(item.querySelector("div"), progress);
}

function showVodResults(box, progress) {
  if (box.childElementCount) return;
  const report = document.createElement("a");
  report.href = withToken(`/api/vods/${progress.job_id}/files/report.html`);
  report.target = "_blank";
  report.textContent = "report";
  box.append(report);
  progress.clips.forEach((clipId, i) => box.append(button(`#${i + 1}`, "play", async () => {
    play(await api(`/api/clip/${clipId}`));
  })));
}

document.addEventListener("DOMContentLoaded", () => {
  $("vod-form").addEventListener("submit", startVod);
  loadVods();
});
