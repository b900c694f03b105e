// stimwise: draws Plotly charts from JSON in data-plot attributes (CSP: no inline scripts).
// Each element <div class="plot" data-plot='{"title":..., "x_label":..., "y_label":...,
// "traces":[{"name":..., "x":[...], "y":[...], "mode":"lines"|"markers", "dash":"dash"}]}'>
// holds one chart (its title goes in the page's figcaption); the page states the same facts in text, so it stays usable without JS.
"use strict";

function drawPlot(element, given) {
  if (typeof Plotly === "undefined") {
    return;
  }
  let spec = given;
  if (!spec) {
    try {
      spec = JSON.parse(element.getAttribute("data-plot"));
    } catch (error) {
      return;
    }
  }
  const traces = spec.traces.map((t) => ({
    type: "scatter",
    name: t.name,
    x: t.x,
    y: t.y,
    mode: t.mode || "lines",
    line: { shape: t.mode ? "linear" : "hv", dash: t.dash || "solid", width: 1.5 },
    marker: { size: 5 },
  }));
  // Dates are labelled as days: with one day of data Plotly would otherwise zoom into that
  // instant and label the axis "23:59:59.999 … 00:00:00.0005" (issue 17).
  const dayAxis = spec.x_label === "date" ? { type: "date", tickformat: "%Y-%m-%d" } : {};
  const xs = traces.flatMap((t) => t.x || []);
  if (spec.x_label === "date" && xs.length && xs.every((x) => x === xs[0])) {
    const day = Date.parse(xs[0]);
    dayAxis.range = [new Date(day - 86400000).toISOString().slice(0, 10),
      new Date(day + 86400000).toISOString().slice(0, 10)];
  }
  const layout = {
    xaxis: { title: { text: spec.x_label }, ...dayAxis },
    yaxis: { title: { text: spec.y_label } },
    margin: { l: 60, r: 20, t: 20, b: 50 },
    legend: { orientation: "h", y: -0.25 },
    font: { family: "system-ui, sans-serif", color: "#1b1f24" },
  };
  element.textContent = "";
  // A group, not an image: the chart holds its own buttons (zoom, download), and an image may
  // hold no controls (axe: nested-interactive).
  element.setAttribute("role", "group");
  element.setAttribute("aria-label", spec.title + " (chart; the same figures are listed as text on this page)");
  Plotly.react(element, traces, layout, { responsive: true, displaylogo: false });
}

window.stimwiseDrawPlot = drawPlot;

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-plot]").forEach((element) => drawPlot(element));
});
