"use strict";
// Filters, expand/collapse and print for the HTML report. Without this script every finding is
// shown; the CSP admits it by its hash only, so nothing the target sent can run.
(() => {
  const panel = document.getElementById("filters");
  const findings = [...document.querySelectorAll("article.finding")];
  const shown = document.getElementById("shown");
  const facets = ["severity", "category", "baseline"];

  const apply = () => {
    const off = new Set(
      [...panel.querySelectorAll("input:not(:checked)")].map((box) => `${box.name}=${box.value}`),
    );
    let visible = 0;
    for (const finding of findings) {
      const hide = facets.some((facet) => off.has(`${facet}=${finding.dataset[facet]}`));
      finding.hidden = hide;
      visible += hide ? 0 : 1;
    }
    shown.textContent = `${visible} of ${findings.length} findings shown`;
  };

  const expand = (open) => {
    for (const details of document.querySelectorAll("article.finding > details")) {
      details.open = open;
    }
  };

  const revealTarget = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    for (let node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
  };

  if (panel) {
    panel.hidden = false;
    panel.addEventListener("change", apply);
    document.getElementById("expand").addEventListener("click", () => expand(true));
    document.getElementById("collapse").addEventListener("click", () => expand(false));
    document.getElementById("reset").addEventListener("click", () => {
      for (const box of panel.querySelectorAll("input")) box.checked = true;
      apply();
    });
    apply();
  }
  window.addEventListener("hashchange", revealTarget);
  revealTarget();

  // Printing shows every finding, expanded; the reader's view comes back afterwards.
  let restore = [];
  window.addEventListener("beforeprint", () => {
    restore = [...document.querySelectorAll("details:not([open])")];
    for (const details of restore) details.open = true;
  });
  window.addEventListener("afterprint", () => {
    for (const details of restore) details.open = false;
    restore = [];
  });
})();
