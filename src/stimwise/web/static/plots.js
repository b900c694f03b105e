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
  const layout = {
    xaxis: { title: { text: spec.x_label } },
    yaxis: { title: { text: spec.y_label } },
    margin: { l: 60, r: 20, t: 20, b: 50 },
    legend: { orientation: "h", y: -0.25 },
    font: { family: "system-ui, sans-serif", color: "#1b1f24" },
  };
  element.textContent = "";
  element.setAttribute("role", "img");
  element.setAttribute("aria-label", spec.title + " (chart; the same figures are listed as text on this page)");
  Plotly.react(element, traces, layout, { responsive: true, displaylogo: false });
}

window.stimwiseDrawPlot = drawPlot;

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-plot]").forEach((element) => drawPlot(element));
});
