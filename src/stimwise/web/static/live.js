/* The live session console: a WebSocket to /ws/v1/live/<pseudonym>.
   Sends start / command / answer / emergency_stop, and a heartbeat every 0.5 s while a session
   runs (the server's runtime stops the output when heartbeats stop: a closed tab stops it). */
(function () {
  "use strict";
  var root = document.getElementById("live-console");
  if (!root) { return; }
  var HEARTBEAT_MS = 500;
  var pseudonym = root.dataset.pseudonym;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var socket = null;
  var beat = null;
  var $ = function (id) { return document.getElementById(id); };
  var TERMINAL = { completed: true, aborted: true };
  var LABELS = { ok: "OK", not_ok: "Not OK", yes: "Yes", no: "No", more: "More",
    strong_comfortable: "Strong but comfortable", too_strong: "Too strong",
    twitch: "Twitch", no_twitch: "No twitch" };

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function say(text) { $("live-message").textContent = text || ""; }

  function connect(onOpen) {
    socket = new WebSocket(scheme + location.host + "/ws/v1/live/" + encodeURIComponent(pseudonym));
    socket.addEventListener("open", onOpen);
    socket.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      stopBeating();
      if (event.code === 4401) { say("Your sign-in has ended: sign in again."); }
      else if (event.code === 4403) { say("This console is not allowed for your account."); }
      else if (!root.classList.contains("ended")) { say("Connection lost: the stimulation has been stopped."); }
      $("live-start-button").disabled = false;
    });
  }

  function startBeating() {
    stopBeating();
    beat = setInterval(function () { send({ type: "heartbeat" }); }, HEARTBEAT_MS);
  }
  function stopBeating() { if (beat) { clearInterval(beat); beat = null; } }

  function fmt(value, digits) { return value === null || value === undefined ? "–" : Number(value).toFixed(digits); }
  // A strength in mA, or words while there is none yet (never a dash beside a unit).
  function amount(id, value, missing) {
    var known = value !== null && value !== undefined;
    $(id).textContent = known ? fmt(value, 1) : missing;
    $(id + "-unit").hidden = !known;
  }
  function clock(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    var whole = Math.max(0, Math.round(seconds));
    var s = whole % 60;
    return Math.floor(whole / 60) + ":" + (s < 10 ? "0" : "") + s;
  }
  var TERMINAL_REASON = { completed: true, aborted: true, paused: true };

  function drawPrompt(prompt) {
    var box = $("live-prompt");
    if (!prompt) { box.hidden = true; box.dataset.kind = ""; return; }
    if (box.dataset.kind === prompt.kind + prompt.amplitude_ma && !box.hidden) { return; }
    box.dataset.kind = prompt.kind + prompt.amplitude_ma;
    $("live-question").textContent = prompt.question;
    var answers = $("live-answers");
    answers.textContent = "";
    prompt.answers.forEach(function (value) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      b.textContent = LABELS[value] || value;
      b.dataset.answer = value;
      b.addEventListener("click", function () { send({ type: "answer", kind: prompt.kind, value: value }); box.hidden = true; });
      answers.appendChild(b);
    });
    box.hidden = false;
  }

  function drawElectrodes(rows) {
    var body = $("live-electrodes");
    if (!body || !rows.length) { return; }
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      [r.channel, r.electrode, r.impedance_ohm === null ? "–" : String(r.impedance_ohm)].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function receive(m) {
    if (m.type === "snapshot") {
      $("live-state").textContent = m.state_words;
      $("live-reason").textContent = m.reason && TERMINAL_REASON[m.state] ? "(" + m.reason + ")" : "";
      $("live-applied").textContent = fmt(m.applied_ma, 1);
      amount("live-target", m.target_ma, "not set yet");
      amount("live-ceiling", m.ceiling_ma, "set when the session starts");
      $("live-running").textContent = clock(m.running_s);
      $("live-remaining").textContent = clock(m.remaining_s);
      $("live-left").hidden = m.remaining_s === null || m.remaining_s === undefined;
      root.dataset.state = m.state;
      drawPrompt(m.prompt);
      drawElectrodes(m.electrodes);
      if (TERMINAL[m.state] && !m.prompt) { stopBeating(); }
    } else if (m.type === "watching") {
      root.classList.add("running", "watching");
      say(m.message);
      $("live-start-button").disabled = true;
    } else if (m.type === "started") {
      root.classList.add("running");
      say("");
    } else if (m.type === "finished") {
      stopBeating();
      root.classList.add("ended");
      root.classList.remove("running", "watching");
      var result = $("live-result");
      result.hidden = false;
      result.className = m.outcome === "completed" ? "" : "bad";
      result.textContent = (m.outcome === "completed" ? "Session finished" : "Session stopped early") + (m.reason ? ": " + m.reason : "") +
        (m.stored ? ". Saved in the record." : ". Not saved: " + (m.problem || "unknown problem"));
      if (m.report_url) {
        var a = document.createElement("a");
        a.href = m.report_url; a.textContent = " Open the session report";
        result.appendChild(a);
      }
      $("live-start-button").disabled = false;
      refreshSessions();
    } else if (m.type === "refused") {
      say(m.message);
    } else if (m.type === "error") {
      var details = (m.problems || []).map(function (p) { return p.path + ": expected " + p.expected; });
      say(m.message + (details.length ? " — " + details.join("; ") : ""));
      if (!root.classList.contains("running")) { $("live-start-button").disabled = false; }
    }
  }

  function refreshSessions() {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-sessions");
        var current = $("live-sessions");
        if (fresh && current) { current.replaceWith(fresh); }
      })
      .catch(function () { /* the list is refreshed on the next visit */ });
  }

  $("live-start").addEventListener("submit", function (event) {
    event.preventDefault();
    var message = { type: "start", prescription_id: $("field-prescription_id").value,
      target_ma: $("field-target_ma").value };
    $("live-start-button").disabled = true;
    root.classList.remove("ended");
    $("live-result").hidden = true;
    say("");
    var go = function () { send(message); startBeating(); };
    if (socket && socket.readyState === WebSocket.OPEN) { go(); } else { connect(go); }
  });

  var select = $("field-prescription_id");
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var target = $("field-target_ma");
    if (option.dataset.max && root.dataset.mode === "home") {
      target.min = option.dataset.min; target.max = option.dataset.max; target.value = option.dataset.min;
      $("range-low").textContent = option.dataset.min; $("range-high").textContent = option.dataset.max;
    }
  });

  root.querySelectorAll("[data-command]").forEach(function (button) {
    button.addEventListener("click", function () { send({ type: "command", name: button.dataset.command }); });
  });

  $("live-estop").addEventListener("click", function () {
    if (!send({ type: "emergency_stop" })) { say("No session is running."); }
  });
  connect(function () { /* open at once: a session already running is shown (watch only) */ });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && root.classList.contains("running")) { send({ type: "emergency_stop" }); }
  });
}());
