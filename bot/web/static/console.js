// postgate web console: the live check of the draft form (no build step, no third-party code).
// The page works without it; with it, the checker's findings appear as the text is typed.
"use strict";
(function () {
  const form = document.getElementById("draft-form");
  if (!form) return;
  const list = document.getElementById("findings");
  const status = document.getElementById("check-status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let timer = null;
  let sequence = 0;

  function payload() {
    const data = new FormData(form);
    const body = { accounts: data.getAll("accounts"), emergency: data.get("emergency") === "1" };
    for (const [key, value] of data.entries()) {
      if (key !== "accounts" && key !== "csrf" && typeof value === "string") body[key] = value;
    }
    return body;
  }

  function show(result) {
    list.replaceChildren();
    for (const f of result.findings) {
      const item = document.createElement("li");
      item.className = "f-" + f.severity;
      item.dataset.rule = f.rule;
      const sev = document.createElement("span");
      sev.className = "sev";
      sev.textContent = f.severity_label;
      const rule = document.createElement("code");
      rule.textContent = f.rule;
      item.append(sev, " ", rule, " 「" + f.quote + "」 " + f.message);
      if (f.suggestion) item.append(" → " + f.suggestion);
      list.append(item);
    }
    status.textContent = result.hint || form.dataset.summary
      .replace("{errors}", result.errors).replace("{warnings}", result.warnings);
  }

  async function check() {
    const mine = ++sequence;
    try {
      const response = await fetch(form.dataset.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(payload()),
        credentials: "same-origin",
      });
      const result = await response.json();
      if (mine === sequence && response.ok) show(result);
    } catch (err) {
      status.textContent = form.dataset.offline;
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function () {
    for (const b of form.querySelectorAll("button")) b.setAttribute("aria-busy", "true");
  });
  if (document.getElementById("text").value) check();
})();
