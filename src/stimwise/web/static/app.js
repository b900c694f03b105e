// stimwise: small progressive enhancements (pages work without JavaScript).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Put keyboard focus on the problem list of a refused form, so screen readers announce it.
  const problems = document.getElementById("problems");
  if (problems) {
    problems.setAttribute("tabindex", "-1");
    problems.focus();
  }
  // Ask before a destructive action (buttons marked data-confirm="question").
  document.querySelectorAll("[data-confirm]").forEach((element) => {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // Fill datetime-local inputs marked data-now with the device's current local time.
  document.querySelectorAll("input[data-now]").forEach((input) => {
    if (!input.value) {
      const now = new Date();
      now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
      input.value = now.toISOString().slice(0, 16);
    }
  });
  // Log a session: choosing "I used other settings" opens the settings to fill in.
  document.querySelectorAll("input[name=as_prescribed]").forEach((input) => {
    input.addEventListener("change", () => {
      const details = input.closest("fieldset").querySelector("details");
      if (details) {
        details.open = input.value === "0";
      }
    });
  });
  // A wide table scrolls inside its box (.table-scroll): while it does, the box can be reached
  // and scrolled with the keyboard and is named after the table (WCAG 2.1.1); otherwise it is
  // no tab stop.
  const markScrollingTables = () => {
    document.querySelectorAll(".table-scroll").forEach((box) => {
      if (box.scrollWidth > box.clientWidth) {
        const caption = box.querySelector("caption");
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", `${caption ? caption.textContent.trim() : "Table"} (scrolls sideways)`);
      } else if (box.hasAttribute("role")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  };
  markScrollingTables();
  window.addEventListener("resize", markScrollingTables);
  // Report the device's UTC offset in forms that carry a hidden tz_offset_min field.
  document.querySelectorAll("input[name=tz_offset_min]").forEach((input) => {
    input.value = String(-new Date().getTimezoneOffset());
  });
});
