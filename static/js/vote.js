// Progressive enhancement for the voting page. Without this script the page works the same with Tab and Enter:
// every vote is a form POST and the page reloads. With it:
//  - keyboard shortcuts A / D / P press the real buttons;
//  - votes go through the JSON API without a reload, the next statement appears with focus moved to it, and the
//    live region announces the vote;
//  - a vote that cannot be sent is kept (in a small queue, also in sessionStorage so a reload keeps it), retried
//    with backoff, and the person is told; it is never silently lost;
//  - a vote the server refuses keeps its statement on screen with the reason, so the person can vote again (and,
//    inside another site's iframe without cookies, is offered the consultation in a new tab).
(function () {
  "use strict";
  var form = document.getElementById("vote-form");
  if (!form) { return; }
  var keys = { a: "agree", d: "disagree", p: "pass" };
  // The shortcuts exist only with this script: only then are they shown and announced.
  Object.keys(keys).forEach(function (key) {
    var button = form.querySelector('button[value="' + keys[key] + '"]');
    if (button) { button.setAttribute("aria-keyshortcuts", key); }
  });
  var hint = document.getElementById("keyboard-hint");
  if (hint) { hint.hidden = false; }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var value = keys[(event.key || "").toLowerCase()];
    if (!value) { return; }
    var button = form.querySelector('button[value="' + value + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  if (!window.fetch || !window.Promise || !form.dataset || !form.dataset.apiVotes) { return; }

  var data = form.dataset;
  var region = document.getElementById("announcements");
  var statementText = document.getElementById("statement-text");
  var statementId = form.querySelector('input[name="statement_id"]');
  var remaining = document.getElementById("remaining");
  var remainingForms = JSON.parse(data.remaining || "{}");
  var storageKey = "participate.pending." + data.apiVotes;
  var csrf = (form.querySelector('input[name="csrf_token"]') || {}).value || "";
  var queue = load();
  var busy = false;
  var attempt = 0;
  var timer = null;
  var needNext = false;
  var MAX_DELAY = 30000;

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }
  function save() {
    try { window.sessionStorage.setItem(storageKey, JSON.stringify(queue)); } catch (e) { /* private mode */ }
  }
  var flip = false;
  function announce(message, kind, link) {
    // One status message at a time, each replacing the last (and any message the page arrived with) in one step:
    // the buttons below never jump while a finger is on its way to them. The same words twice in a row differ by
    // an invisible space, so that screen readers announce them again.
    if (!region) { return; }
    flip = !flip;
    var p = document.createElement("p");
    p.className = "flash flash-" + (kind || "success");
    p.textContent = message + (flip ? "\u00a0" : "");
    if (link) { p.appendChild(document.createTextNode(" ")); p.appendChild(link); }
    region.textContent = "";
    region.appendChild(p);
  }
  function setBusy(value) {
    busy = value;
    form.setAttribute("aria-busy", value ? "true" : "false");
    Array.prototype.forEach.call(form.querySelectorAll("button[name=vote]"), function (b) {
      b.setAttribute("aria-disabled", value ? "true" : "false");
    });
  }
  function labelOf(value) {
    var button = form.querySelector('button[value="' + value + '"]');
    var label = button && button.querySelector(".label");
    return label ? label.textContent.trim() : value;
  }
  function json(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return { status: response.status, body: body };
    });
  }
  function refreshToken() {
    return fetch(data.apiSession, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(json).then(function (r) { if (r.body && r.body.csrf_token) { csrf = r.body.csrf_token; } });
  }
  function send(vote) {
    return fetch(data.apiVotes, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ statement_id: vote.statement_id, vote: vote.vote })
    }).then(json);
  }
  function display(next) {
    if (!next.statement) { window.location.assign(data.doneUrl); return; }
    statementId.value = next.statement.id;
    statementText.textContent = next.statement.text;
    var origin = document.getElementById("statement-origin");
    if (origin && next.statement.origin) { origin.textContent = origin.getAttribute("data-" + next.statement.origin); }
    if (remaining) {
      var n = next.remaining;
      remaining.textContent = (remainingForms[String(n)] || remainingForms.other || "").replace("%(num)d", n);
    }
    statementText.focus();
  }
  function showNext() {
    return fetch(data.apiNext, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(json).then(function (r) {
        if (r.status !== 200) { throw new Error("next " + r.status); }
        display(r.body);
      });
  }
  function embedded() {
    try { return window.self !== window.top; } catch (e) { return true; }
  }
  function refused(reason, session) {
    queue = [];
    save();
    needNext = false;
    setBusy(false);
    var link = null;
    if (session && embedded()) {
      // Inside another site's page the browser may withhold this site's cookies, and then no vote can ever be
      // recorded here: offer the consultation in a tab of its own, where they work.
      link = document.createElement("a");
      link.href = window.location.href;  // with any personal ?xid= or ?code=
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = data.newTab;
    }
    announce(data.failed + (reason ? " " + reason : "") + " " + data.tryAgain, "error", link);
    statementText.focus();
  }
  function retryLater(message, least) {
    var delay = Math.max(least || 0, Math.min(MAX_DELAY, 1000 * Math.pow(2, attempt)));
    attempt += 1;
    announce(message || data.retrying, "warning");
    timer = window.setTimeout(flush, delay);
  }
  function flush() {
    timer = null;
    if (!queue.length) {
      if (!needNext) { setBusy(false); return; }
      setBusy(true);
      showNext().then(function () {
        needNext = false;
        attempt = 0;
        setBusy(false);
      }).catch(function () { retryLater(data.retryingNext); });
      return;
    }
    setBusy(true);
    var vote = queue[0];
    send(vote).then(function (r) {
      if (r.status === 400 && !vote.tokenRefreshed && r.body.error && r.body.error.code === "bad_request") {
        // Most likely an expired CSRF token: fetch a fresh one from the API and try once more.
        vote.tokenRefreshed = true;
        return refreshToken().then(flush);
      }
      if (r.status === 429) {
        // At a limit (many people joining at once, or votes too fast): not recorded yet, and the person is told
        // why in the server's words; the vote stays queued and is sent again once the limit allows.
        retryLater((r.body.error && r.body.error.message ? r.body.error.message + " " : "") + data.limited, 15000);
        return;
      }
      if (r.status >= 500) { retryLater(); return; }
      queue.shift();
      save();
      attempt = 0;
      if (r.status !== 201) {
        // Refused (an expired session, closed, not eligible): nothing was recorded, so the statement stays where it
        // is and the person is told why and may vote again. Moving on would make the vote look recorded.
        refused(r.body.error ? r.body.error.message : "", r.body.error && r.body.error.code === "bad_request");
        return;
      }
      announce(data.recorded.replace("%(vote)s", labelOf(vote.vote)));
      if (!queue.length && r.body.next) {
        // The answer carries the next statement: no second request.
        display(r.body.next);
        needNext = false;
        setBusy(false);
        return;
      }
      needNext = true;
      flush();
    }).catch(function () {
      // Network failure: the vote stays queued (and in sessionStorage) until it is sent.
      retryLater();
    });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter || document.activeElement;
    if (!button || button.name !== "vote") { return; }
    event.preventDefault();
    if (busy) { announce(queue.length ? data.retrying : data.sending, "warning"); return; }
    queue.push({ statement_id: parseInt(statementId.value, 10), vote: button.value });
    save();
    announce(data.sending);
    flush();
  });

  if (queue.length) { flush(); }
  refreshToken().catch(function () { /* the page's own token is used meanwhile */ });
})();
