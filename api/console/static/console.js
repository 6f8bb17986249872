// creditwatch console: charts (ECharts) from the data-* attributes the server renders,
// and the workbench's live feed (EventSource). No inline script: the CSP allows none.
"use strict";

function json(el, name) {
  return JSON.parse(el.getAttribute("data-" + name) || "null");
}

function chart(el, option) {
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption(Object.assign({ animation: false, grid: { left: 48, right: 16, top: 24, bottom: 32 } }, option));
  window.addEventListener("resize", () => c.resize());
  el.dataset.points = String(option.series[0].data.length);
  return c;
}

const CHARTS = {
  bar(el) {
    const colours = json(el, "colors");
    chart(el, {
      tooltip: {},
      xAxis: { type: "category", data: json(el, "labels") },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: json(el, "values").map((v, i) => ({ value: v, itemStyle: { color: colours[i] } })) }],
    });
  },
  days(el) {
    const names = json(el, "names");
    chart(el, {
      tooltip: { trigger: "axis" },
      legend: { data: names, top: 0, right: 0 },
      xAxis: { type: "category", data: json(el, "labels") },
      yAxis: { type: "value" },
      series: [
        { name: names[0], type: "bar", data: json(el, "opened"), itemStyle: { color: "#f07c1b" } },
        { name: names[1], type: "bar", data: json(el, "closed"), itemStyle: { color: "#2e9d4f" } },
      ],
    });
  },
  // firms per group (district, industry section) stacked by grade; a click opens the
  // group's list
  "grades-by"(el) {
    const grades = json(el, "grades");
    const colours = json(el, "colors");
    const rows = json(el, "rows");
    const keys = json(el, "keys");
    const names = json(el, "names");
    const c = chart(el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: grades, top: 0, right: 0 },
      grid: { left: 112, right: 16, top: 28, bottom: 24 },
      yAxis: { type: "category", data: json(el, "labels"), inverse: true },
      xAxis: { type: "value" },
      series: grades.map((g, i) => ({
        name: g, type: "bar", stack: "firms", itemStyle: { color: colours[i] },
        data: rows.map((row) => row[g] || 0),
      })),
    });
    if (names) c.setOption({ tooltip: { formatter: (ps) => echarts.format.encodeHTML(ps[0].name + " " + (names[ps[0].dataIndex] || "")) + "<br>" + ps.map((p) => p.seriesName + ": " + p.value).join("<br>") } });
    c.on("click", (p) => { location.href = el.getAttribute("data-href") + encodeURIComponent(keys[p.dataIndex]); });
  },
  // per-day series (warnings by rule), stacked
  stacked(el) {
    const series = json(el, "series");
    chart(el, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 32 },
      xAxis: { type: "category", data: json(el, "labels") },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map((s) => ({ name: s.name, type: "bar", stack: "day", data: s.data })),
    });
  },
  // per-day levels (firms at each grade), in the grade colours
  lines(el) {
    const series = json(el, "series");
    const colours = json(el, "colors");
    chart(el, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, right: 0 },
      grid: { left: 48, right: 16, top: 28, bottom: 32 },
      xAxis: { type: "category", data: json(el, "labels") },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map((s, i) => ({ name: s.name, type: "line", showSymbol: false, data: s.data, itemStyle: { color: colours[i] }, lineStyle: { color: colours[i] } })),
    });
  },
  // the districts' boundaries (fetched from this origin) in the colour of their firms'
  // grade; a click opens the district's list. Features are matched by their adcode.
  map(el) {
    const regions = json(el, "regions");
    const grades = json(el, "grades");
    fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((geo) => {
        echarts.registerMap("districts", geo);
        const c = echarts.init(el, null, { renderer: "canvas" });
        c.setOption({
          animation: false,
          tooltip: {
            trigger: "item",
            formatter: (p) => p.data ? echarts.format.encodeHTML(p.data.title + " " + p.data.name) + "<br>" + grades.map((g) => g + ": " + p.data.counts[g]).join(" · ") : p.name,
          },
          series: [{
            type: "map", map: "districts", nameProperty: "adcode", roam: false, selectedMode: false,
            label: { show: true, formatter: (p) => (p.data && p.data.title) || "", fontSize: 11 },
            emphasis: { label: { show: true } },
            data: regions.map((r) => ({ name: r.code, value: r.grade ? grades.indexOf(r.grade) + 1 : 0, title: r.label, counts: r.counts, href: r.href, itemStyle: { areaColor: r.colour } })),
          }],
        });
        window.addEventListener("resize", () => c.resize());
        c.on("click", (p) => { if (p.data && p.data.href) location.href = p.data.href; });
        // where each region's label sits on the canvas (its centre): for the tests
        const geoSys = c.getModel().getSeriesByIndex(0).coordinateSystem;
        const centres = {};
        regions.forEach((r) => {
          const region = geoSys.getRegion(r.code);
          if (region) centres[r.code] = c.convertToPixel({ seriesIndex: 0 }, region.getCenter());
        });
        el.dataset.centres = JSON.stringify(centres);
        el.dataset.points = String(regions.length);
      });
  },
  history(el) {
    const points = json(el, "points");
    const colours = json(el, "colors");
    const grades = ["A", "B", "C", "D"];
    chart(el, {
      tooltip: { trigger: "item", formatter: (p) => [p.data.at, p.data.grade + " · " + p.data.score, p.data.cause].map(echarts.format.encodeHTML).join("<br>") },
      // days with their month (the default shows a day's number alone); hours as they were.
      // Longer labels: a month's first day and a day tick next to it would overlap
      xAxis: { type: "time", axisLabel: { hideOverlap: true, formatter: { year: "{yyyy}", month: "{MM}-{dd}", day: "{MM}-{dd}" } } },
      yAxis: { type: "category", data: grades, inverse: true },
      series: [{
        type: "line", step: "end", symbolSize: 9,
        data: points.map((p) => ({ value: [p.at, p.grade], at: p.at, grade: p.grade, score: p.score, cause: p.cause, itemStyle: { color: colours[p.grade] } })),
        lineStyle: { color: "#9aa5b1" },
      }],
    });
  },
};

function drawCharts() {
  document.querySelectorAll("[data-chart]").forEach((el) => CHARTS[el.getAttribute("data-chart")](el));
}

function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    td.appendChild(span);
  } else {
    td.textContent = text;
  }
  return td;
}

function link(href, text) {
  const td = document.createElement("td");
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  td.appendChild(a);
  return td;
}

const STREAM_FILTERS = ["district", "rule_id", "severity"];

function streamUrl() {
  // the filters in the address bar (htmx pushes them there), those the stream takes
  const asked = new URLSearchParams(location.search);
  const sent = new URLSearchParams();
  STREAM_FILTERS.forEach((name) => { if (asked.get(name)) sent.set(name, asked.get(name)); });
  return { url: "/console/stream?" + sent.toString(), status: asked.get("status") || "", mine: asked.get("mine") === "1" };
}

// China Standard Time to the second, as the server's local_time filter shows times
function localTime(at) {
  const moment = new Date(at);
  if (isNaN(moment)) return at;
  return new Date(moment.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 19).replace("T", " ");
}

function addRow(table, rows, w) {
  // one row per warning: a close record updates the row already shown
  const shown = rows.querySelector('tr[data-warning="' + CSS.escape(w.warning_id) + '"]');
  if (shown) {
    if (w.status === "closed") shown.children[5].textContent = table.getAttribute("data-closed");
    return;
  }
  const empty = rows.querySelector("tr.empty");
  if (empty) empty.remove();
  const tr = document.createElement("tr");
  tr.className = "fresh sev-row-" + w.severity;
  tr.dataset.warning = w.warning_id;
  tr.appendChild(cell(localTime(w.raised_at)));
  tr.appendChild(cell(w.severity, "sev sev-" + w.severity));
  tr.appendChild(cell(w.rule_id));
  tr.appendChild(link("/console/enterprises/" + encodeURIComponent(w.uscc), w.uscc));
  tr.appendChild(link("/console/warnings/" + encodeURIComponent(w.uscc) + "/" + encodeURIComponent(w.warning_id), w.message));
  tr.appendChild(cell(table.getAttribute(w.status === "closed" ? "data-closed" : "data-open")));
  tr.appendChild(cell(""));  // handling: nothing yet on a new warning
  rows.insertBefore(tr, rows.firstChild);
}

let source = null;

function liveFeed() {
  const table = document.getElementById("warnings");
  if (!table) return;
  const state = document.getElementById("live-state");
  const wanted = streamUrl();
  if (source) source.close();
  state.className = "live";  // until the new stream is open
  source = new EventSource(wanted.url);
  source.onopen = () => { state.textContent = state.dataset.on; state.className = "live on"; };
  source.onerror = () => { state.textContent = state.dataset.off; state.className = "live off"; };
  source.addEventListener("warning", (ev) => {
    const w = JSON.parse(ev.data);
    if (wanted.status && (w.status || "open") !== wanted.status) return;
    if (wanted.mine) return;  // a warning just raised is assigned to no one yet
    addRow(table, document.getElementById("rows"), w);
  });
}

// the workbench's actions answer their refusals (4xx) with the handling part of the
// page and the API's message: swap it in rather than drop it
document.addEventListener("htmx:beforeSwap", (ev) => {
  if (ev.detail.xhr.status >= 400 && ev.detail.xhr.status < 500 && ev.detail.target.id === "handling"
      && ev.detail.serverResponse.trimStart().startsWith('<section class="card handling"')) {
    ev.detail.shouldSwap = true;
    ev.detail.isError = false;
  }
});

// new filters from the form (an htmx swap of the rows): the stream follows them
document.addEventListener("htmx:pushedIntoHistory", liveFeed);
document.addEventListener("DOMContentLoaded", () => { drawCharts(); liveFeed(); });
