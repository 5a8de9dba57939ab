// The dashboard's charts: each drawn from the same numbers as the table beside it
// (#chart-data, rendered by the server), with Chart.js served from node_modules.
"use strict";
(function () {
  const COLOURS = ["#1f5fbf", "#1c7c45", "#b7791f", "#b42318", "#6b4a9b", "#4a5263", "#0e7490"];
  function draw() {
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const chart = data[canvas.dataset.chart];
      const daily = canvas.dataset.chart === "daily";
      const datasets = chart.series.map(([label, values], i) => ({
        label,
        data: values,
        type: daily && label === "Backlog" ? "line" : "bar",
        backgroundColor: COLOURS[i % COLOURS.length],
        borderColor: COLOURS[i % COLOURS.length],
      }));
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: datasets.length > 1 } },
          scales: { y: canvas.dataset.chart === "sla" ? { beginAtZero: true, max: 100 } : { beginAtZero: true } },
        },
      });
    });
  }
  if (window.Chart) draw();
  else window.addEventListener("load", draw);
})();
