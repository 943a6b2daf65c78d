// Clip Live dashboard: the charts and their spike marks. Loaded before app.js.
"use strict";

const MAX_POINTS = 600;          // points kept per line (10 minutes at one per second)
const MAX_SPIKES = 50;           // spike marks kept on the charts
const THRESHOLD = 0.8;           // the fuser clips at P >= 0.80

// ---- Charts ---------------------------------------------------------------------------------

// Each chart plots one field of one kind of event (`event`: the fuser's row per second).
const charts = [
  { id: "chart-loud", kind: "event", field: "loud_db", title: "Loudness (dBFS)" },
  { id: "chart-motion", kind: "event", field: "motion_avg", title: "Motion (px/frame)" },
  { id: "chart-excited", kind: "event", field: "excited_prob", title: "Excited probability",
    range: [0, 1], threshold: true },
  { id: "chart-chat", kind: "chat", field: "messages", hover: "rate_z",
    title: "Chat (messages/s; hover: rate against normal)" },
  { id: "chart-face", kind: "face", field: "excitement", title: "Face excitement" },
];
for (const chart of charts) { chart.traces = {}; chart.pending = {}; }
const spikeShapes = [];
const spikeJobs = new Set();     // jobs already marked: one mark per clip job

function setUpCharts() {
  for (const chart of charts) {
    const layout = {
      title: { text: chart.title, font: { size: 13 } },
      margin: { l: 45, r: 10, t: 30, b: 30 }, showlegend: true,
      xaxis: { title: { text: "stream time (s)" } },
      yaxis: chart.range ? { range: chart.range } : {},
      shapes: chartShapes(chart),
    };
    Plotly.newPlot(chart.id, [], layout, { displaylogo: false, responsive: true });
  }
}

function chartShapes(chart) {
  return chart.threshold ? [thresholdLine(), ...spikeShapes] : [...spikeShapes];
}

function thresholdLine() {
  return { type: "line", xref: "paper", x0: 0, x1: 1, y0: THRESHOLD, y1: THRESHOLD,
           line: { color: "#c62828", dash: "dash", width: 1 } };
}

function addPoint(kind, channel, row) {
  for (const chart of charts) {
    if (chart.kind !== kind) continue;
    const slot = chart.pending[channel] || (chart.pending[channel] = { x: [], y: [], text: [] });
    slot.x.push(row.t);
    slot.y.push(row[chart.field] ?? null);
    if (chart.hover) slot.text.push(`${chart.hover} ${Number(row[chart.hover]).toFixed(2)}`);
  }
}

function flushPoints() {
  for (const chart of charts) {
    for (const [channel, slot] of Object.entries(chart.pending)) {
      if (chart.traces[channel] === undefined) {
        chart.traces[channel] = Object.keys(chart.traces).length;
        Plotly.addTraces(chart.id, { x: [], y: [], text: [], mode: "lines", name: channel });
      }
      const update = { x: [slot.x], y: [slot.y] };
      if (chart.hover) update.text = [slot.text];
      Plotly.extendTraces(chart.id, update, [chart.traces[channel]], MAX_POINTS);
    }
    chart.pending = {};
  }
}

// The fuser sends a spike for every exciting second; the ones right after a clip was asked
// for merge into that clip (no job id). One mark per clip job, at the spike that asked for it.
function markSpike(spike) {
  if (!spike.job_id || spikeJobs.has(spike.job_id)) return;
  spikeJobs.add(spike.job_id);
  spikeShapes.push({ type: "line", yref: "paper", x0: spike.t, x1: spike.t, y0: 0, y1: 1,
                     line: { color: "#ef6c00", width: 2 }, name: "spike " + spike.job_id });
  if (spikeShapes.length > MAX_SPIKES) spikeShapes.shift();
  for (const chart of charts) Plotly.relayout(chart.id, { shapes: chartShapes(chart) });
}
