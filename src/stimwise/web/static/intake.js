// stimwise intake page: the page works without this script (buttons post the form); with it,
// details appear after the answer that calls for them, rows are added in place, places are
// picked on the body map or typed ("right hand"), and progress, questionnaire scores and the
// clearances that apply follow the answers. Every judgement is the server's: progress, scores
// and clearances come from /patients/{p}/intake/preview, typed places from /sites/match.
"use strict";

(() => {
  const form = document.getElementById("intake-form");
  if (!form) {
    return;
  }
  const token = form.querySelector("input[name=csrf_token]").value;
  let dirty = false;

  // ----------------------------------------------------------------- shown after an answer
  function valuesOf(name) {
    const values = [];
    form.querySelectorAll("[name]").forEach((element) => {
      if (element.name !== name || element.closest("template")) {
        return;
      }
      if ((element.type === "radio" || element.type === "checkbox") && !element.checked) {
        return;
      }
      values.push(element.value);
    });
    return values;
  }

  function applyConditions() {
    form.querySelectorAll("[data-show-name]").forEach((element) => {
      const wanted = element.dataset.showValues.split(" ");
      const show = valuesOf(element.dataset.showName).some((v) => wanted.includes(v));
      element.hidden = !show;
    });
    form.querySelectorAll("[data-version-select]").forEach((select) => {
      select.closest("details").querySelectorAll("[data-versions]").forEach((item) => {
        item.hidden = !item.dataset.versions.split(" ").includes(select.value);
      });
    });
  }

  // ----------------------------------------------------------------- rows of a list
  function rowsInput(list) {
    return form.querySelector(`input[name="${list}.__rows"]`);
  }

  function renumber(list) {
    const box = form.querySelector(`[data-list="${list}"] .list-rows`);
    const rows = box.querySelectorAll(":scope > [data-row]");
    const pattern = new RegExp(`^(${list.replace(".", "\\.")})\\.\\d+\\.`);
    const idPattern = new RegExp(`^field-(${list})-\\d+-`);
    rows.forEach((row, index) => {
      row.querySelectorAll("[name]").forEach((el) => {
        el.name = el.name.replace(pattern, `$1.${index}.`);
      });
      row.querySelectorAll("[id], [for], [data-for], [data-show-name]").forEach((el) => {
        if (el.id) {
          el.id = el.id.replace(idPattern, `field-$1-${index}-`);
        }
        if (el.htmlFor) {
          el.htmlFor = el.htmlFor.replace(idPattern, `field-$1-${index}-`);
        }
        ["for", "showName", "sitesField"].forEach((key) => {
          if (el.dataset[key]) {
            el.dataset[key] = el.dataset[key].replace(pattern, `$1.${index}.`);
          }
        });
      });
      const legend = row.querySelector(":scope > legend");
      legend.textContent = legend.textContent.replace(/\d+$/, String(index + 1));
    });
    rowsInput(list).value = String(rows.length);
    nameAddButton(list);
  }

  function nameAddButton(list) {
    const button = form.querySelector(`[data-add="${list}"]`);
    const rows = Number(rowsInput(list).value || "0");
    const text = button.textContent.replace(/^Add (another )?/, "");
    button.textContent = rows ? `Add another ${text}` : `Add ${text}`;
  }

  function addRow(list) {
    const template = document.getElementById(`template-${list.replace(/_/g, "-")}`);
    const count = Number(rowsInput(list).value || "0");
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replaceAll("__index__", String(count));
    const row = holder.firstElementChild;
    const legend = row.querySelector(":scope > legend");
    legend.textContent = legend.textContent.replace(/\d+$/, String(count + 1));
    template.before(row);
    rowsInput(list).value = String(count + 1);
    nameAddButton(list);
    enhanceRow(row);
    applyConditions();
    const first = row.querySelector("input:not([type=hidden]), select");
    if (first) {
      first.focus();
    }
    return row;
  }

  function enhanceRow(row) {
    const remove = row.querySelector(".remove-row");
    if (remove) {
      remove.hidden = false;
      remove.addEventListener("click", () => {
        const list = row.closest("[data-list]").dataset.list;
        row.remove();
        renumber(list);
        changed();
      });
    }
    row.querySelectorAll("[data-sites-field]").forEach(enhanceSites);
  }

  form.querySelectorAll("[data-add]").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      addRow(button.dataset.add);
      changed();
    });
  });

  form.querySelectorAll("[data-list]").forEach((box) => {
    const list = box.dataset.list;
    box.querySelectorAll(`input[name="${list}.__answer"]`).forEach((radio) => {
      radio.addEventListener("change", () => {
        if (radio.value === "yes" && radio.checked && rowsInput(list).value === "0") {
          addRow(list);
        }
      });
    });
  });

  // ----------------------------------------------------------------- places
  function chipsOf(fieldset) {
    return fieldset.querySelector(".chips");
  }

  function addPlace(fieldset, value, label) {
    const name = fieldset.dataset.sitesField;
    const chips = chipsOf(fieldset);
    if (fieldset.dataset.single) {
      chips.innerHTML = "";
    }
    if (chips.querySelector(`input[value="${value}"]`)) {
      return;
    }
    const item = document.createElement("li");
    const chip = document.createElement("label");
    chip.className = "chip";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = value;
    box.checked = true;
    box.addEventListener("change", () => {
      if (!box.checked) {
        item.remove();
        changed();
      }
    });
    chip.append(box, ` ${label}`);
    item.append(chip);
    chips.append(item);
  }

  function removePlace(fieldset, value) {
    const box = chipsOf(fieldset).querySelector(`input[value="${value}"]`);
    if (box) {
      box.closest("li").remove();
    }
  }

  async function matchTyped(fieldset) {
    const input = fieldset.querySelector(".site-entry input");
    const help = fieldset.querySelector(".site-help");
    const text = input.value.trim();
    if (!text) {
      help.textContent = "";
      return;
    }
    let found;
    try {
      const answer = await fetch(`/sites/match?text=${encodeURIComponent(text)}`,
        { credentials: "same-origin" });
      found = await answer.json();
    } catch (error) {
      help.textContent = "Could not reach the server; the place will be read when you save.";
      return;
    }
    if (input.value.trim() !== text) {
      return; // changed meanwhile (a suggestion was chosen, or more was typed)
    }
    found.places.forEach((place) => addPlace(fieldset, place.value, place.label));
    help.textContent = "";
    if (found.problems.length === 0) {
      input.value = "";
      input.removeAttribute("aria-invalid");
      changed();
      return;
    }
    input.value = found.problems.map((p) => p.text).join(", ");
    input.setAttribute("aria-invalid", "true");
    if (document.activeElement === input) {
      input.select(); // typing again replaces what could not be matched
    }
    found.problems.forEach((problem) => {
      const line = document.createElement("p");
      line.className = "problem";
      line.textContent = problem.problem.charAt(0).toUpperCase() + problem.problem.slice(1)
        + (problem.suggestions.length ? ". Did you mean:" : ".");
      help.append(line);
      const options = document.createElement("div");
      options.className = "seg";
      problem.suggestions.forEach((suggestion) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = suggestion.label;
        button.addEventListener("click", () => {
          addPlace(fieldset, suggestion.value, suggestion.label);
          input.value = "";
          help.textContent = "";
          input.focus();
          changed();
        });
        options.append(button);
      });
      help.append(options);
    });
  }

  function enhanceSites(fieldset) {
    if (fieldset.dataset.enhanced) {
      return;
    }
    fieldset.dataset.enhanced = "1";
    const input = fieldset.querySelector(".site-entry input");
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        matchTyped(fieldset);
      }
    });
    input.addEventListener("change", () => matchTyped(fieldset));
    chipsOf(fieldset).querySelectorAll("input").forEach((box) => {
      box.addEventListener("change", () => {
        if (!box.checked) {
          box.closest("li").remove();
          changed();
        }
      });
    });
    const pick = fieldset.querySelector(".pick-sites");
    pick.hidden = false;
    pick.addEventListener("click", () => openPicker(fieldset, pick));
  }

  // ----------------------------------------------------------------- the place picker
  const picker = document.getElementById("site-picker");
  let pickerTarget = null;
  let pickerOpener = null;

  function pickerBoxes() {
    return picker.querySelectorAll(".picker-list input[type=checkbox]");
  }

  function paintMap() {
    const chosen = new Set();
    const covered = new Set();
    pickerBoxes().forEach((box) => {
      if (box.checked) {
        chosen.add(box.value);
        box.dataset.sites.split(" ").forEach((site) => covered.add(site));
      }
    });
    picker.querySelectorAll(".pick-site").forEach((shape) => {
      shape.classList.toggle("chosen", chosen.has(shape.dataset.site));
      shape.classList.toggle("covered", covered.has(shape.dataset.site));
    });
  }

  function openPicker(fieldset, opener) {
    pickerTarget = fieldset;
    pickerOpener = opener;
    const chosen = new Set([...chipsOf(fieldset).querySelectorAll("input:checked")]
      .map((box) => box.value));
    pickerBoxes().forEach((box) => {
      box.checked = chosen.has(box.value);
    });
    document.getElementById("site-picker-for").textContent =
      fieldset.querySelector("legend").firstChild.textContent.trim().toLowerCase();
    paintMap();
    picker.showModal();
  }

  function choose(box) {
    if (!pickerTarget) {
      return;
    }
    if (box.checked) {
      if (pickerTarget.dataset.single) {
        pickerBoxes().forEach((other) => {
          if (other !== box) {
            other.checked = false;
          }
        });
      }
      addPlace(pickerTarget, box.value, box.dataset.label);
    } else {
      removePlace(pickerTarget, box.value);
    }
    paintMap();
    changed();
  }

  if (picker) {
    pickerBoxes().forEach((box) => box.addEventListener("change", () => choose(box)));
    picker.querySelectorAll(".pick-site").forEach((shape) => {
      shape.addEventListener("click", () => {
        const box = picker.querySelector(`.picker-list input[value="${shape.dataset.site}"]`);
        if (box) {
          box.checked = !box.checked;
          choose(box);
        }
      });
    });
    document.getElementById("site-picker-done").addEventListener("click", () => picker.close());
    picker.addEventListener("close", () => {
      if (pickerOpener) {
        pickerOpener.focus();
      }
    });
    const filter = document.getElementById("site-picker-filter");
    filter.addEventListener("input", () => {
      const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      picker.querySelectorAll(".picker-group").forEach((group) => {
        let any = false;
        group.querySelectorAll(".choice").forEach((choice) => {
          const text = choice.textContent.toLowerCase();
          const match = words.every((w) => text.includes(w));
          choice.hidden = !match;
          any = any || match;
        });
        group.hidden = !any;
      });
    });
  }

  // ----------------------------------------------------------------- progress and scores
  let timer = null;
  let sequence = 0;

  async function preview() {
    const mine = ++sequence;
    let body;
    try {
      const answer = await fetch(form.dataset.previewUrl, {
        method: "POST",
        headers: { "X-CSRF-Token": token },
        body: new FormData(form),
        credentials: "same-origin",
      });
      if (!answer.ok) {
        return;
      }
      body = await answer.json();
    } catch (error) {
      return;
    }
    if (mine !== sequence) {
      return;
    }
    document.querySelectorAll("[data-progress-total]").forEach((el) => {
      el.textContent = `${body.answered} of ${body.required}`;
    });
    Object.entries(body.sections).forEach(([id, counts]) => {
      document.querySelectorAll(`[data-progress="${id}"]`).forEach((el) => {
        el.textContent = `${counts.answered}/${counts.required}`;
      });
      const link = document.querySelector(`[data-progress-link="${id}"]`);
      if (link && counts.required) {
        link.classList.toggle("done", counts.answered >= counts.required);
      }
    });
    Object.entries(body.scores).forEach(([prefix, text]) => {
      document.querySelectorAll(`[data-score-for="${prefix}"]`).forEach((el) => {
        el.textContent = text || (el.classList.contains("q-score-short") ? "not answered" : "");
      });
    });
    const list = document.getElementById("clearance-list");
    if (list && list.dataset.key !== body.clearances_key && !list.contains(document.activeElement)) {
      const holder = document.createElement("div");
      holder.innerHTML = body.clearances_html;
      const fresh = holder.querySelector("#clearance-list");
      fresh.dataset.key = body.clearances_key;
      list.replaceWith(fresh);
      applyConditions();
    }
  }

  function changed() {
    dirty = true;
    applyConditions();
    clearTimeout(timer);
    timer = setTimeout(preview, 350);
  }

  form.addEventListener("change", changed);
  form.addEventListener("keydown", (event) => {
    // Enter in an answer does not send the page (a typed place is matched instead); the
    // buttons send it
    const target = event.target;
    if (event.key === "Enter" && target.tagName === "INPUT"
        && !["submit", "button"].includes(target.type)) {
      event.preventDefault();
    }
  });
  document.addEventListener("submit", () => {
    dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  form.querySelectorAll("[data-row]").forEach(enhanceRow);
  form.querySelectorAll("[data-sites-field]").forEach(enhanceSites);
  applyConditions();
})();
