/* Moderation queue and item pages: live tab counts, keyboard shortcuts, copy reply. No dependencies. */
(function () {
  "use strict";

  var SHORTCUTS = [
    ["j", "Next item (list: move selection; item page: open next item)"],
    ["k", "Previous item"],
    ["Enter", "Open the selected item (list)"],
    ["c", "Claim or unclaim (item page)"],
    ["x", "Confirm: open the decision form at the reason field (list: for the selected/checked rows)"],
    ["d", "Dismiss (false positive)"],
    ["e", "Escalate (needs clinical review)"],
    ["n", "Write a note"],
    ["?", "Show or hide this help"],
    ["Esc", "Close this help"]
  ];

  function isTyping(target) {
    if (!target) return false;
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // ---- help overlay -------------------------------------------------------------------------
  var overlay = null;
  function toggleHelp(force) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "shortcut-help";
      overlay.className = "shortcut-help";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-label", "Keyboard shortcuts");
      var box = document.createElement("div");
      var title = document.createElement("h2");
      title.textContent = "Keyboard shortcuts";
      box.appendChild(title);
      var list = document.createElement("dl");
      SHORTCUTS.forEach(function (pair) {
        var dt = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = pair[0];
        dt.appendChild(kbd);
        var dd = document.createElement("dd");
        dd.textContent = pair[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      box.appendChild(list);
      var note = document.createElement("p");
      note.textContent = "Shortcuts are ignored while typing in a field.";
      box.appendChild(note);
      overlay.appendChild(box);
      overlay.addEventListener("click", function () { toggleHelp(false); });
      overlay.hidden = true;
      document.body.appendChild(overlay);
    }
    overlay.hidden = typeof force === "boolean" ? !force : !overlay.hidden;
  }

  // ---- queue list ---------------------------------------------------------------------------
  function setupQueue(page) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.queue-row"));
    var selected = -1;
    function select(index) {
      if (!rows.length) return;
      if (selected >= 0) rows[selected].classList.remove("selected");
      selected = Math.max(0, Math.min(rows.length - 1, index));
      rows[selected].classList.add("selected");
      rows[selected].scrollIntoView({ block: "nearest" });
    }
    var selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.addEventListener("change", function () {
        document.querySelectorAll('input[name="items"]').forEach(function (box) { box.checked = selectAll.checked; });
      });
    }
    var reason = document.querySelector('#bulk-form input[name="reason"]');
    var kind = document.querySelector('#bulk-form select[name="kind"]');
    function bulk(kindValue) {
      if (selected >= 0) {
        var box = rows[selected].querySelector('input[name="items"]');
        if (box) box.checked = true;
      }
      if (kind) kind.value = kindValue;
      if (reason) reason.focus();
    }
    // Live counts: poll the small JSON endpoint every 10 s.
    var countsUrl = page.getAttribute("data-counts-url");
    function refresh() {
      if (document.hidden) return;
      fetch(countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (counts) {
          if (!counts) return;
          Object.keys(counts).forEach(function (tab) {
            var el = document.querySelector('[data-tab-count="' + tab + '"]');
            if (el) el.textContent = String(counts[tab]);
          });
        })
        .catch(function () { /* offline for a moment: try again next tick */ });
    }
    if (countsUrl && window.fetch) setInterval(refresh, 10000);

    return function (key) {
      if (key === "j") { select(selected + 1); return true; }
      if (key === "k") { select(selected - 1); return true; }
      if (key === "Enter" && selected >= 0) { window.location.href = rows[selected].getAttribute("data-href"); return true; }
      if (key === "x") { bulk("confirm"); return true; }
      if (key === "d") { bulk("dismiss"); return true; }
      if (key === "e") { bulk("escalate"); return true; }
      return false;
    };
  }

  // ---- item page ----------------------------------------------------------------------------
  function setupItem(page) {
    var copy = document.getElementById("copy-reply");
    var reply = document.getElementById("suggested-reply");
    if (copy && reply) {
      copy.addEventListener("click", function () {
        var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy reply"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(reply.value).then(done);
        } else {
          reply.select();
          document.execCommand("copy");
          done();
        }
      });
    }
    function decide(kind) {
      var radio = document.getElementById("kind-" + kind);
      if (radio) radio.checked = true;
      var reason = document.getElementById("decision-reason");
      if (reason) { reason.scrollIntoView({ block: "center" }); reason.focus(); }
      if (kind === "confirm") {
        var action = document.getElementById("action-taken");
        if (action && !action.value) action.focus();
      }
    }
    function go(attr) {
      var url = page.getAttribute(attr);
      if (url) window.location.href = url;
    }
    return function (key) {
      if (key === "j") { go("data-next-url"); return true; }
      if (key === "k") { go("data-previous-url"); return true; }
      if (key === "c") {
        var form = document.getElementById("claim-form");
        if (form && form.querySelector("button")) form.submit();
        return true;
      }
      if (key === "x") { decide("confirm"); return true; }
      if (key === "d") { decide("dismiss"); return true; }
      if (key === "e") { decide("escalate"); return true; }
      if (key === "n") {
        var note = document.getElementById("note-text");
        if (note) { note.scrollIntoView({ block: "center" }); note.focus(); }
        return true;
      }
      return false;
    };
  }

  function init() {
    var queuePage = document.getElementById("queue-page");
    var itemPage = document.getElementById("item-page");
    var handler = queuePage ? setupQueue(queuePage) : itemPage ? setupItem(itemPage) : null;
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape" && overlay && !overlay.hidden) { toggleHelp(false); return; }
      if (isTyping(event.target)) return;
      if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
      if (handler && handler(event.key)) event.preventDefault();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
