// stimwise prescription editor: re-verify and redraw while the clinician edits (the "Verify
// and draw" button does the same without JavaScript). Nothing is stored from here: the draft is
// sent to the verify endpoint, which only judges it.
"use strict";

function draftFromForm(form) {
  const draft = {};
  for (const element of form.elements) {
    const name = element.name;
    if (!name || name === "csrf_token" || name === "action" || name.includes("__")) {
      continue;
    }
    let value;
    if (element.type === "checkbox") {
      value = element.checked;
    } else if (element.value.trim() === "") {
      continue;
    } else if (element.type === "number") {
      value = Number(element.value);
    } else {
      value = element.value.trim();
    }
    const parts = name.split(".");
    let target = draft;
    parts.slice(0, -1).forEach((part, index) => {
      const nextIsIndex = /^\d+$/.test(parts[index + 1]);
      if (target[part] === undefined) {
        target[part] = nextIsIndex ? [] : {};
      }
      target = target[part];
    });
    target[parts[parts.length - 1]] = value;
  }
  if (Array.isArray(draft.channels)) {
    draft.channels = draft.channels.filter((row) => row && Object.keys(row).length > 0);
  }
  draft.intake_id = Number(draft.intake_id);
  return draft;
}

// A field's words for a problem the server named by its path (never the path itself).
function labelOf(form, path) {
  const field = form.querySelector(`[name="${CSS.escape(path)}"]`);
  if (field && field.dataset.label) {
    return field.dataset.label;
  }
  const group = document.getElementById("field-" + path.replaceAll(".", "-"));
  const legend = group ? group.querySelector("legend") : null;
  return legend ? legend.textContent : "This draft";
}

function showStatus(region, text) {
  region.textContent = text;
}

async function reverify(form, region) {
  const token = form.querySelector("input[name=csrf_token]").value;
  const url = form.getAttribute("data-verify-url");
  let answer;
  try {
    answer = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(draftFromForm(form)),
      credentials: "same-origin",
    });
  } catch (error) {
    showStatus(region, "Could not reach the server; use Verify and draw.");
    return;
  }
  const body = await answer.json();
  if (answer.status === 422) {
    const problems = (body.problems || []).map((p) => `${labelOf(form, p.path)}: ${p.expected}`);
    showStatus(region, "Not verified yet: " + problems.join("; "));
    return;
  }
  if (!answer.ok) {
    showStatus(region, body.message || "The draft could not be verified.");
    return;
  }
  // One verdict for what the button would do: a draft whose safety check passes but whose
  // home-use ranges break a rule cannot be stored, and the check says so first (issue 17).
  const blocking = body.safety.findings.filter((f) => f.severity === "block");
  let text = body.storable ? "Live check: can be stored (Verify and store saves it)."
    : "Live check: cannot be stored yet.";
  text += ` Safety verification: ${body.verdict.toUpperCase()}`;
  if (blocking.length) {
    text += " — " + blocking.map((f) => `[${f.rule_id}] ${f.message}`).join("; ");
  }
  text += ".";
  if (body.problems.length) {
    text += " " + body.problems.map((p) => `${p.label}: ${p.expected}`).join("; ") + ".";
  }
  showStatus(region, text);
  // The home rule's sentence carries this draft's ceiling: the same words as any refusal.
  const rule = document.getElementById("home-rule-text");
  if (rule && body.home_amplitude_rule) {
    rule.textContent = body.home_amplitude_rule;
  }
  for (const key of ["pulse", "second", "envelope"]) {
    const element = document.querySelector(`[data-plot-key=${key}]`);
    if (element && body.waveform && window.stimwiseDrawPlot) {
      window.stimwiseDrawPlot(element, body.waveform[key]);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-verify-url]");
  const region = document.getElementById("live-check");
  if (!form || !region) {
    return;
  }
  let timer = null;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => reverify(form, region), 600);
  });
  form.addEventListener("change", () => {
    clearTimeout(timer);
    timer = setTimeout(() => reverify(form, region), 200);
  });
});
