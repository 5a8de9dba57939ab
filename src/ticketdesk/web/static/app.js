// ticketdesk: keyboard shortcuts, the composer's modes, presence heartbeats and the
// reply-collision prompt. Pages work without it: every action is also a real form.
(function () {
  "use strict";

  const csrf = () => {
    const raw = document.body.getAttribute("hx-headers");
    try { return JSON.parse(raw)["X-CSRF-Token"]; } catch (e) { return ""; }
  };

  // Keys typed into a field are text, never shortcuts.
  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  // --- live updates: the page's one SSE connection (htmx's SSE extension opens it) ---
  document.addEventListener("htmx:sseOpen", (event) => {
    const source = event.detail && event.detail.source;
    if (source) source.addEventListener("ready", () => { document.body.dataset.live = "open"; });
  });
  document.addEventListener("htmx:sseError", () => { document.body.dataset.live = "reconnecting"; });

  // --- lists: j / k move, Enter opens ---
  let selected = -1;
  const rows = () => Array.from(document.querySelectorAll("[data-row]"));
  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((row, i) => row.setAttribute("aria-selected", i === selected ? "true" : "false"));
    const link = all[selected].querySelector("a");
    if (link) link.focus();
  }
  document.addEventListener("htmx:afterSwap", () => {
    // A live refresh of the list keeps the selection on the same position.
    if (selected >= 0) { const all = rows(); if (all[selected]) all[selected].setAttribute("aria-selected", "true"); }
  });

  // --- the desk composer: Reply / Internal note ---
  function setMode(mode) {
    const composer = document.getElementById("composer");
    const input = document.getElementById("composer-mode");
    if (!composer || !input) return false;
    input.value = mode;
    composer.classList.toggle("mode-note", mode === "note");
    composer.classList.toggle("mode-reply", mode !== "note");
    document.getElementById("comment-label").textContent = mode === "note" ? "Internal note" : "Reply";
    document.querySelectorAll("[data-mode]").forEach((tab) =>
      tab.setAttribute("aria-selected", tab.dataset.mode === mode ? "true" : "false"));
    return true;
  }
  document.addEventListener("click", (event) => {
    const tab = event.target.closest && event.target.closest("[data-mode]");
    if (tab && setMode(tab.dataset.mode)) {
      event.preventDefault();
      document.getElementById("comment").focus();
    }
  });

  function compose(mode) {
    const box = document.querySelector("[data-composer]");
    if (!box) return;
    if (mode) setMode(mode);
    box.scrollIntoView({ block: "center" });
    box.focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const help = document.getElementById("shortcuts");
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "Enter": {
        const row = rows()[selected];
        const link = row && row.querySelector("a");
        if (!link) return;
        window.location.href = link.href;
        break;
      }
      case "r": compose(document.getElementById("composer-mode") ? "reply" : null); break;
      case "n": if (!document.getElementById("composer-mode")) return; compose("note"); break;
      case "a": { const take = document.getElementById("take-it"); if (!take) return; take.click(); break; }
      case "/": { const search = document.querySelector("[data-search]"); if (!search) return; search.focus(); search.select(); break; }
      case "?": if (help && !help.open) help.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  // --- presence: "Ana is viewing / replying" on the desk's ticket page ---
  const layout = document.querySelector("[data-ticket]");
  if (layout && document.body.dataset.role && ["agent", "super_admin"].includes(document.body.dataset.role)) {
    const url = "/desk/tickets/" + encodeURIComponent(layout.dataset.ticket) + "/presence";
    let mode = "viewing";
    const beat = () => {
      const body = new URLSearchParams({ mode: mode });
      fetch(url, { method: "POST", body: body, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin", keepalive: true }).catch(() => {});
    };
    const box = document.getElementById("comment");
    const update = () => {
      const next = box && (document.activeElement === box || box.value.trim()) ? "replying" : "viewing";
      if (next !== mode) { mode = next; beat(); }
    };
    if (box) { box.addEventListener("focus", update); box.addEventListener("blur", update); box.addEventListener("input", update); }
    beat();
    setInterval(beat, 20000);
    window.addEventListener("pagehide", () => {
      mode = "gone"; beat();
    });
  }

  // --- collision: the server held a reply back (409); ask before sending it anyway ---
  const collision = document.getElementById("collision");
  if (collision) {
    const who = collision.dataset.collision;
    const form = document.getElementById("composer-form");
    setTimeout(() => {
      if (window.confirm(who + " replied while you were writing. Send your message anyway?")) form.requestSubmit();
      else document.getElementById("comment").focus();
    }, 50);
  }
})();
