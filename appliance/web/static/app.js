"use strict";
// The web page: one small script over the JSON API. No framework: the page must load fast on a
// phone's own web server and work with a keyboard alone.

let csrf = null;
let status = null;
let timer = null;
let events = null;  // the status pushed by the server (server-sent events)
const $ = (id) => document.getElementById(id);

function apiError(response, data) {
  const error = new Error((data && data.error) || response.statusText);
  error.status = response.status;
  error.problems = (data && data.problems) || [];
  return error;
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  const response = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!response.ok) throw apiError(response, data);
  return data;
}

function say(text, bad) {
  const flash = $("flash");
  flash.textContent = text;
  flash.className = bad ? "bad" : "good";
}

// A problem's field as the form names it: "contacts[2].speed_dial" is the contact form's
// "Speed dial". The field is marked in the form; without a form the name is shown as it is.
function fieldOf(field, form) {
  if (!form || !field) return field;
  const element = form.elements[field] || form.elements[field.replace(/^.*\]\./, "").replace(/^.*\./, "")];
  if (!element || !element.name) return field;
  element.setAttribute("aria-invalid", "true");
  const label = element.closest("label");
  const words = label ? (label.firstChild.textContent || "").trim() : "";
  return words || field;
}

function describe(error, form) {
  const details = error.problems.map((p) => {
    const field = fieldOf(p.field, form);
    return (field ? field + ": " : "") + p.reason;
  });
  if (!details.length) return error.message;
  if (error.status === 400) return "Please check: " + details.join("; ");
  return error.message + " — " + details.join("; ");
}

function unmark(event) {  // a new try, or a cleared form: the last one's marks go
  for (const marked of event.target.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
}
document.addEventListener("submit", unmark, true);
document.addEventListener("reset", unmark, true);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function showFacts(dl, facts, mono = []) {
  dl.replaceChildren();
  for (const [k, v] of Object.entries(facts)) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    if (mono.includes(k)) dd.className = "mono";
    dl.append(dt, dd);
  }
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function show(view) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== "view-" + view;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === "#" + view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// --- what the provisioning profile locks ---------------------------------------------------------
// status.provisioning.locked lists the keys the owner's provisioning server fixes ("features.dnd",
// a whole section, "contacts"). The API refuses changes to them; the page shows them read-only and
// says why, rather than letting a change be typed in and refused.

const LOCKED = "Locked by the provisioning profile: change it on the provisioning server.";

function isLocked(key) {
  const locks = (status && status.provisioning && status.provisioning.locked) || [];
  return locks.some((lock) => key === lock || key.startsWith(lock + "."));
}

function lockField(element, locked) {  // one input, with the reason in its label
  element.disabled = locked;
  const label = element.closest("label");
  const note = label && label.querySelector(".locked-note");
  if (locked && label && !note) {
    const why = document.createElement("span");
    why.className = "locked-note";
    why.textContent = LOCKED;
    label.appendChild(why);
  } else if (!locked && note) note.remove();
}

function lockForm(form, locked) {  // a whole form (the contacts, the SIP accounts, the password)
  for (const element of form.elements) element.disabled = locked;
  let note = form.previousElementSibling;
  if (!(note && note.classList.contains("locked-note"))) note = null;
  if (locked && !note) {
    note = document.createElement("p");
    note.className = "locked-note";
    note.textContent = LOCKED;
    form.before(note);
  } else if (!locked && note) note.remove();
}

// --- start: set-up, log-in, or the page ---------------------------------------------------------

async function start() {
  const setup = await api("GET", "/setup");
  if (!setup.password_set) {
    const code = $("form-setup").code;
    code.required = setup.code_required;
    code.closest("label").hidden = !setup.code_required;
    show("setup");
    return;
  }
  try {
    csrf = (await api("GET", "/session")).csrf;
  } catch (e) {
    if (e.status === 401) { show("login"); return; }
    throw e;
  }
  $("nav").hidden = false;
  await refreshStatus();
  listen();
  route();
}

function listen() {
  if (events) return;
  events = new EventSource("/api/v1/events");
  events.onmessage = (message) => { status = JSON.parse(message.data); render(); };
  events.onerror = () => {  // the phone restarts, or the session ended: find out which
    unlisten();
    setTimeout(() => { if (csrf) api("GET", "/session").then(() => { if (csrf) listen(); }).catch(handle); }, 2000);
  };
}

function unlisten() {
  if (events) { events.close(); events = null; }
}

$("form-setup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  if (form.password.value !== form.again.value) { say("The two passwords differ.", true); return; }
  try {
    csrf = (await api("POST", "/setup", { password: form.password.value, code: form.code.value.trim() })).csrf;
    form.reset();
    say("Password set. Welcome.");
    await start();
  } catch (e) { say(describe(e), true); }
});

$("form-login").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    csrf = (await api("POST", "/login", { password: event.target.password.value })).csrf;
    event.target.reset();
    say("");
    await start();
  } catch (e) { say(describe(e), true); }
});

$("btn-logout").addEventListener("click", async () => {
  await api("POST", "/logout");
  csrf = null;
  unlisten();
  $("nav").hidden = true;
  show("login");
});

// --- routing and refresh ----------------------------------------------------------------------

async function loadStatus() {
  await refreshStatus();
  loadNetworkFacts().catch(handle);  // UPnP discovery takes a moment: the rest is shown meanwhile
}

async function loadNetworkFacts() {
  const net = await api("GET", "/network");
  const facts = {
    "Addresses": Object.entries(net.addresses || {}).map(([k, v]) => v + " (" + k + ")").join(", ") || "none",
    "Router": net.default_gateway || "none",
    "UPnP": net.upnp && net.upnp.found ? "yes, outside address " + (net.upnp.external_address || "unknown") : "no UPnP router found",
    "NAT": net.nat || "—",
    "Jami network (DHT)": (net.dht.announced ? "this device is announced" : "not announced yet") +
      (net.dht.own_node ? "; own node on port " + net.dht.own_node.port + ", " + net.dht.own_node.nodes_known + " nodes known" : "; via " + net.dht.bootstrap.join(", ")),
  };
  showFacts($("status-network"), facts);
}

// --- network: Wi-Fi (scan, join, forget) and each connection's addressing -------------------------

function signalBars(signal) { return signal >= 75 ? "▂▄▆█" : signal >= 50 ? "▂▄▆" : signal >= 25 ? "▂▄" : "▂"; }

function addressingOf(ipv4) {
  if (ipv4.method !== "manual") return "DHCP" + (ipv4.dns.length ? ", DNS " + ipv4.dns.join(" ") : "");
  return ipv4.address + "/" + ipv4.prefix + (ipv4.gateway ? ", gateway " + ipv4.gateway : "") +
    (ipv4.dns.length ? ", DNS " + ipv4.dns.join(" ") : "");
}

function showNetworks(networks) {
  const body = $("wifi-networks");
  body.replaceChildren();
  for (const n of networks) {
    const row = document.createElement("tr");
    cell(row, n.ssid + (n.in_use ? " (joined)" : ""));
    cell(row, signalBars(n.signal) + " " + n.signal + "%");
    cell(row, n.open ? "open" : n.security).className = "narrow-hide";
    cell(row, "").appendChild(button("Join…", () => {
      const form = $("form-wifi-join");
      form.ssid.value = n.ssid;
      form.psk.value = "";
      form.hidden.checked = false;
      (n.open ? form.querySelector("button[type=submit]") : form.psk).focus();
    }));
    body.appendChild(row);
  }
}

async function loadNetwork() {
  const wifi = await api("GET", "/wifi");
  const note = $("ap-note");
  note.hidden = !wifi.access_point.open;
  note.textContent = "You are on this phone's own Wi-Fi (" + wifi.access_point.ssid + "): it opened it because it " +
    "found no network. Choose your network below: the phone joins it and closes its own; then find its page " +
    "on your network at http://" + wifi.local_name + ".";
  const joined = wifi.saved.find((s) => s.type === "wifi" && s.active);
  showFacts($("network-links"), {
    "Ethernet": wifi.ethernet ? "connected" : "no cable",
    "Wi-Fi": joined ? "joined " + joined.ssid : (wifi.access_point.open ? "own access point open" : "not joined"),
  });
  if (wifi.networks.length) showNetworks(wifi.networks);
  const saved = $("wifi-saved");
  saved.replaceChildren();
  for (const s of wifi.saved) {
    const row = document.createElement("tr");
    cell(row, s.name + (s.active ? " (in use)" : ""));
    cell(row, s.type === "wifi" ? "Wi-Fi" : "Ethernet").className = "narrow-hide";
    cell(row, addressingOf(s.ipv4));
    const actions = cell(row, "");
    actions.className = "actions";
    actions.appendChild(button("Addressing…", () => editAddressing(s)));
    if (s.type === "wifi") {
      actions.appendChild(button("Forget", async () => {
        if (!confirm("Forget " + s.name + "? The phone no longer joins it.")) return;
        try { await api("DELETE", "/network/connections/" + encodeURIComponent(s.uuid)); say("Forgot " + s.name + "."); await loadNetwork(); }
        catch (e) { handle(e); }
      }));
    }
    saved.appendChild(row);
  }
  return wifi;
}

function editAddressing(saved) {
  const form = $("form-ipv4");
  form.hidden = false;
  $("ipv4-title").textContent = "Addressing of " + saved.name;
  form.uuid.value = saved.uuid;
  form.method.value = saved.ipv4.method === "manual" ? "manual" : "auto";
  form.address.value = saved.ipv4.address;
  form.prefix.value = saved.ipv4.prefix || "";
  form.gateway.value = saved.ipv4.gateway;
  form.dns.value = saved.ipv4.dns.join(" ");
  $("ipv4-static").hidden = form.method.value !== "manual";
  form.method.focus();
}

$("form-ipv4").method.addEventListener("change", (event) => { $("ipv4-static").hidden = event.target.value !== "manual"; });
$("form-ipv4").addEventListener("reset", (event) => { event.target.hidden = true; });
$("form-ipv4").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { method: form.method.value, dns: form.dns.value.split(/[\s,]+/).filter(Boolean) };
  if (body.method === "manual") {
    body.address = form.address.value.trim();
    body.prefix = form.prefix.value === "" ? 0 : Number(form.prefix.value);
    body.gateway = form.gateway.value.trim();
  }
  try {
    await api("PUT", "/network/connections/" + encodeURIComponent(form.uuid.value) + "/ipv4", body);
    form.hidden = true;
    say("Addressing saved" + (body.method === "manual" ? ": the phone is at " + body.address + " once the connection is up again." : ": DHCP."));
    await loadNetwork();
  } catch (e) { handle(e, form); }
});

$("btn-wifi-scan").addEventListener("click", async () => {
  $("wifi-scan-state").textContent = "looking…";
  try { showNetworks((await api("POST", "/wifi/scan")).networks); $("wifi-scan-state").textContent = ""; }
  catch (e) { $("wifi-scan-state").textContent = ""; handle(e); }
});

$("form-wifi-join").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const ssid = form.ssid.value;
  try {
    await api("POST", "/wifi/join", { ssid, psk: form.psk.value, hidden: form.hidden.checked });
  } catch (e) { handle(e, form); return; }
  form.psk.value = "";  // not kept in the page either
  say("Joining " + ssid + "… (on the phone's own Wi-Fi this page goes away: find it on your network then)");
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let wifi;
    try { wifi = await api("GET", "/wifi"); } catch (e) { if (e.status === 401) { handle(e); return; } continue; }
    const join = wifi.join;
    if (!join || join.ssid !== ssid || join.state === "joining") continue;
    if (join.state === "joined") { say("Joined " + ssid + "."); await loadNetwork(); return; }
    const field = join.field ? form.elements[join.field] : null;
    if (field) field.setAttribute("aria-invalid", "true");
    say("Could not join " + ssid + ": " + join.reason, true);
    await loadNetwork();
    return;
  }
  say("No word from the phone about " + ssid + " yet: look again in a moment.", true);
});

const loaders = {
  status: loadStatus, network: loadNetwork, phone: refreshStatus, contacts: loadContacts, requests: loadRequests,
  settings: loadSettings, calls: loadCalls, system: loadSystem, accounts: loadAccounts,
  messages: loadMessages,
};

async function route() {
  if (!csrf) return;
  // On the phone's own access point the owner came to choose a Wi-Fi network: that comes first.
  let view = location.hash.slice(1) || (status && status.access_point ? "network" : "status");
  if (!(view in loaders)) view = "status";
  if (view === "phone" && status && !status.simulated) view = "status";
  show(view);
  clearInterval(timer);
  try { await loaders[view](); } catch (e) { handle(e); }
  if (view === "system") timer = setInterval(() => loadLogs().catch(handle), 2000);
}

function handle(e, form) {
  if (e.status === 401) { csrf = null; unlisten(); $("nav").hidden = true; clearInterval(timer); show("login"); say("Please log in again.", true); }
  else say(describe(e, form), true);
}

window.addEventListener("hashchange", () => { say(""); route(); });

// --- status and the virtual phone ---------------------------------------------------------------

async function refreshStatus() {
  status = await api("GET", "/status");
  render();
}

function render() {
  const phone = status.phone;
  const notices = $("notices");
  notices.replaceChildren();
  for (const n of status.notices || []) {
    const p = document.createElement("p");
    p.textContent = n.text;
    if (n.severity === "warning") {  // read and done with; an error stays until it is fixed
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "quiet";
      dismiss.textContent = "Dismiss";
      dismiss.setAttribute("aria-label", "Dismiss: " + n.text);
      dismiss.addEventListener("click", async () => {
        try {
          await api("POST", "/notices/" + encodeURIComponent(n.key) + "/dismiss");
          await refreshStatus();
        } catch (e) { handle(e); }
      });
      p.append(" ", dismiss);
    }
    notices.appendChild(p);
  }
  notices.hidden = !(status.notices || []).length;
  notices.className = (status.notices || []).some((n) => n.severity === "error") ? "notices error" : "notices";
  $("nav-phone").hidden = !status.simulated;
  const badge = $("badge-requests");
  badge.hidden = !phone.trust_requests;
  badge.textContent = phone.trust_requests;
  const facts = {
    "Phone": phone.state + (phone.call ? " — " + phone.call.peer : ""),
    "Private mode": phone.private_mode ? "on" : "off",
    "Do not disturb": phone.dnd ? "on" : "off",
    "Missed calls": phone.missed,
    "Telephony": phone.telephony ? "running" : "restarting",
    "Up for": Math.round(status.uptime_s / 60) + " min",
  };
  const jamiAccount = status.accounts.find((a) => a.type === "jami" && a.device);
  if (jamiAccount) facts["This device's certificate"] = jamiAccount.device.match(/.{1,4}/g).join(" ");
  showFacts($("status-phone"), facts);
  const rows = $("status-accounts");
  rows.replaceChildren();
  let jami = false;
  for (const account of status.accounts) {
    const tr = document.createElement("tr");
    cell(tr, account.type === "jami" ? "Jami" : "SIP " + account.name);
    cell(tr, account.uri || "(being created)").className = "mono";
    cell(tr, account.registration);
    rows.appendChild(tr);
    if (account.type === "jami" && account.uri) jami = true;
  }
  if (jami && $("qr-figure").hidden) { $("qr").src = "/api/v1/account/qr.svg"; $("qr-figure").hidden = false; }
  $("oled").textContent = phone.display.join("\n");
  $("lamp-tone").textContent = "tone: " + (phone.tone || "—");
  $("lamp-ringer").textContent = "bell: " + (phone.ringer ? "RINGING" : "quiet");
  $("lamp-ringer").className = phone.ringer ? "ringing" : "";
  $("btn-hook").textContent = handsetLifted() ? "Hang up" : "Lift handset";
}

function handsetLifted() {  // the switch, not the phone: it counts a handset just put down as a flash for a moment
  if (!status) return false;
  return "handset_lifted" in status.phone ? status.phone.handset_lifted : status.phone.off_hook;
}

async function press(keys) {
  status = null;
  await api("POST", "/sim/keys", { keys });
  await refreshStatus();
}

for (const key of "123456789*0#") {
  const b = button(key, () => press(key).catch(handle));
  b.className = "key";
  b.setAttribute("aria-label", "key " + key);
  $("keypad").appendChild(b);
}

$("btn-hook").addEventListener("click", async () => {
  try {
    const offHook = !handsetLifted();
    await api("POST", "/sim/hook", { off_hook: offHook });
    await refreshStatus();
  } catch (e) { handle(e); }
});

$("btn-flash").addEventListener("click", async () => {
  try { await api("POST", "/sim/flash"); await refreshStatus(); } catch (e) { handle(e); }
});

document.addEventListener("keydown", (event) => {
  if ($("view-phone").hidden || event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey) return;
  if ("0123456789*#".includes(event.key) && event.key.length === 1) { press(event.key).catch(handle); event.preventDefault(); }
});

// --- contacts -------------------------------------------------------------------------------------

async function loadContacts() {
  const [contacts, now] = await Promise.all([api("GET", "/contacts"), api("GET", "/status")]);
  status = now;
  const locked = isLocked("contacts");
  lockForm($("form-contact"), locked);
  lockForm($("form-vcf"), locked);
  const rows = $("contacts");
  rows.replaceChildren();
  for (const c of contacts) {
    const tr = document.createElement("tr");
    cell(tr, c.name);
    const address = cell(tr, c.uri);
    address.className = "mono";
    if (c.warning) {
      const warning = document.createElement("div");
      warning.className = "warn";
      warning.textContent = "⚠ " + c.warning;
      address.appendChild(warning);
    }
    cell(tr, c.speed_dial);
    cell(tr, c.number).className = "narrow-hide";
    const id = c.identity;
    const cert = cell(tr, id ? (id.changed ? "CHANGED: was " + id.fingerprint + ", now " + id.presented : id.fingerprint) : "not met yet");
    cert.className = "mono narrow-hide" + (id && id.changed ? " bad" : "");
    const actions = cell(tr, "");
    actions.className = "actions";
    if (id && id.changed) actions.append(button("Accept new certificate", async () => {
      if (!confirm("Only accept after checking the new fingerprint with " + c.name + " in person or by another channel. Accept?")) return;
      try { await api("POST", "/identities/" + encodeURIComponent(normalized(c.uri)) + "/accept"); say("New certificate accepted."); await loadContacts(); }
      catch (e) { handle(e); }
    }));
    if (/^[0-9a-f]{40}$/.test(normalized(c.uri))) actions.append(button("Send request", async () => {
      try { await api("POST", "/contacts/" + encodeURIComponent(c.id) + "/request"); say("Request sent to " + c.name + " with this phone's card."); }
      catch (e) { handle(e); }
    }));
    if (!locked) actions.append(
      button("Edit", () => editContact(c)),
      button("Delete", async () => {
        if (!confirm("Delete " + c.name + "?")) return;
        try { await api("DELETE", "/contacts/" + encodeURIComponent(c.id)); say("Deleted " + c.name + "."); await loadContacts(); }
        catch (e) { handle(e); }
      }),
    );
    rows.appendChild(tr);
  }
}

function normalized(uri) {
  return uri.replace(/^(ring:|jami:)/, "").replace(/@ring\.dht$/, "").toLowerCase();
}

function editContact(c) {
  const form = $("form-contact");
  for (const k of ["id", "name", "uri", "speed_dial", "number"]) form[k].value = c[k] || "";
  $("contact-form-title").textContent = "Edit " + c.name;
  form.name.focus();
}

$("form-block").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/blocked", { uri: event.target.uri.value.trim() });
    event.target.reset(); say("Blocked."); await loadRequests();
  } catch (e) { say(describe(e, event.target), true); }
});

$("form-contact").addEventListener("reset", () => { $("contact-form-title").textContent = "Add a contact"; });

$("form-contact").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.name.value, uri: form.uri.value.trim(), speed_dial: form.speed_dial.value, number: form.number.value };
  try {
    const saved = form.id.value ? await api("PUT", "/contacts/" + encodeURIComponent(form.id.value), body)
      : await api("POST", "/contacts", body);
    say("Saved " + body.name + "." + (saved && saved.warning ? " Note: " + saved.warning + "." : ""), !!(saved && saved.warning));
    form.reset();
    await loadContacts();
  } catch (e) { handle(e, form); }
});

$("form-vcf").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const result = await api("POST", "/contacts/import", { vcf: await event.target.file.files[0].text() });
    event.target.reset();
    say("Added " + result.added + " contact(s)." + (result.skipped.length ? " Skipped: " + result.skipped.join("; ") : ""));
    await loadContacts();
  } catch (e) { handle(e, event.target); }
});

$("btn-test-tone").addEventListener("click", async () => {
  try { await api("POST", "/handset/test", { tone: true }); say("Test tone (1004 Hz) in the handset for 3 seconds."); } catch (e) { handle(e); }
});

$("btn-test-mic").addEventListener("click", async () => {
  $("mic-level").textContent = "listening…";
  try {
    const result = await api("POST", "/handset/test", { listen_s: 3 });
    if (!result.microphone) { $("mic-level").textContent = "this board has no handset microphone"; return; }
    $("mic-meter").value = Math.max(-60, result.level_dbfs);
    $("mic-level").textContent = result.level_dbfs + " dBFS" + (result.level_dbfs < -50 ? " — nothing heard: check the handset cable" : "");
  } catch (e) { $("mic-level").textContent = ""; handle(e); }
});

// --- accounts -------------------------------------------------------------------------------------

async function download(path, body, fallbackName) {
  const response = await fetch("/api/v1" + path, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
  });
  if (!response.ok) throw apiError(response, await response.json().catch(() => ({})));
  const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name ? name[1] : fallbackName;
  link.click();
  URL.revokeObjectURL(link.href);
}

async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function loadAccounts() {
  status = await api("GET", "/status");
  const jami = status.accounts.find((a) => a.type === "jami");
  const facts = jami ? {
    "Jami ID": jami.uri || "(being created)", "Name callers see": jami.name || "none",
    "Registration": jami.registration, "This device's certificate": jami.device || "—",
  } : { "Jami": "turned off in the configuration" };
  showFacts($("jami-facts"), facts, ["Jami ID"]);
  const locked = isLocked("sip_accounts");
  lockForm($("form-sip"), locked);
  const rows = $("sip-accounts");
  rows.replaceChildren();
  for (const a of await api("GET", "/sip-accounts")) {
    const tr = document.createElement("tr");
    cell(tr, a.id); cell(tr, a.username);
    cell(tr, a.registrar || "(IP-to-IP)").className = "narrow-hide"; cell(tr, a.local_port).className = "narrow-hide";
    cell(tr, a.registration || "not started: restart");
    const actions = cell(tr, "");
    actions.className = "actions";
    if (!locked) actions.append(
      button("Edit", () => {
        const form = $("form-sip");
        form.editing.value = a.id; form.id.value = a.id; form.id.readOnly = true;
        form.username.value = a.username; form.password.value = ""; form.registrar.value = a.registrar || "";
        form.local_port.value = a.local_port; $("sip-form-title").textContent = "Edit " + a.id; form.username.focus();
      }),
      button("Remove", async () => {
        if (!confirm("Remove the SIP account " + a.id + "?")) return;
        try { await api("DELETE", "/sip-accounts/" + encodeURIComponent(a.id)); $("sip-restart").hidden = false; await loadAccounts(); }
        catch (e) { handle(e); }
      }),
    );
    rows.appendChild(tr);
  }
}

$("form-sip").addEventListener("reset", () => { $("form-sip").id.readOnly = false; $("sip-form-title").textContent = "Add a SIP account"; });

$("form-sip").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { username: form.username.value, password: form.password.value, registrar: form.registrar.value.trim(), local_port: Number(form.local_port.value) };
  try {
    if (form.editing.value) await api("PUT", "/sip-accounts/" + encodeURIComponent(form.editing.value), body);
    else await api("POST", "/sip-accounts", { id: form.id.value.trim(), ...body });
    form.reset(); form.editing.value = "";
    $("sip-restart").hidden = false;
    await loadAccounts();
  } catch (e) { handle(e, form); }
});

$("btn-sip-restart").addEventListener("click", async () => {
  try { await api("POST", "/system/restart"); $("sip-restart").hidden = true; say("Restarting: the registration shows here in a few seconds."); } catch (e) { handle(e); }
});

$("form-account-export").addEventListener("submit", async (event) => {
  event.preventDefault();
  try { await download("/account/export", { password: event.target.password.value }, "jami-account.gz"); event.target.reset(); say("Account exported."); }
  catch (e) { handle(e); }
});

$("form-account-import").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  if (!confirm("This phone's own Jami account is replaced by the one in the archive. Go on?")) return;
  try {
    await api("POST", "/account/import", { password: form.password.value, data: await base64Of(form.file.files[0]) });
    form.reset();
    say("Account imported: it registers in a moment.");
    await loadAccounts();
  } catch (e) { handle(e); }
});

// --- trust requests ---------------------------------------------------------------------------

async function loadRequests() {
  const requests = await api("GET", "/trust-requests");
  const rows = $("requests");
  rows.replaceChildren();
  if (!requests.length) {
    const tr = document.createElement("tr");
    cell(tr, "No requests waiting.").colSpan = 4;
    rows.appendChild(tr);
  }
  for (const r of requests) {
    const tr = document.createElement("tr");
    cell(tr, r.name || "(no name)");
    cell(tr, r.uri).className = "mono";
    cell(tr, r.received ? new Date(r.received * 1000).toLocaleString() : "").className = "narrow-hide";
    const path = "/trust-requests/" + encodeURIComponent(r.uri);
    const actions = cell(tr, "");
    actions.className = "actions";
    actions.append(
      button("Accept", async () => { try { await api("POST", path + "/accept"); say("Accepted " + (r.name || r.uri) + ": now in Contacts, and may call this phone."); await loadRequests(); } catch (e) { handle(e); } }),
      button("Discard", async () => { try { await api("POST", path + "/discard"); say("Discarded."); await loadRequests(); } catch (e) { handle(e); } }),
      button("Block", async () => {
        if (!confirm("Block " + (r.name || r.uri) + "? No more requests or calls from them.")) return;
        try { await api("POST", path + "/block"); say("Blocked."); await loadRequests(); } catch (e) { handle(e); }
      }),
    );
    rows.appendChild(tr);
  }
  const blocked = await api("GET", "/blocked");
  const list = $("blocked");
  list.replaceChildren();
  for (const uri of blocked) {
    const tr = document.createElement("tr");
    cell(tr, uri).className = "mono";
    cell(tr, "").append(button("Unblock", async () => {
      try { await api("DELETE", "/blocked/" + encodeURIComponent(uri)); say("Unblocked."); await loadRequests(); } catch (e) { handle(e); }
    }));
    list.appendChild(tr);
  }
  $("blocked-none").hidden = blocked.length > 0;
}

// --- settings -------------------------------------------------------------------------------------

async function loadSettings() {
  $("form-settings").setAttribute("aria-busy", "true");
  const [settings, now] = await Promise.all([api("GET", "/settings"), api("GET", "/status")]);
  status = now;
  for (const element of $("form-settings").elements) {
    if (!element.name || !element.name.includes(".")) continue;
    lockField(element, isLocked(element.name));
    const [section, key] = element.name.split(".");
    const value = settings[section] ? settings[section][key] : undefined;
    if (element.type === "checkbox") element.checked = !!value;
    else if ("list" in element.dataset) element.value = (value || []).join("\n");
    else element.value = value === undefined ? "" : value;
  }
  lockField($("star-codes"), isLocked("star_codes"));
  $("star-codes").value = Object.entries(settings.star_codes || {}).map(([code, f]) => code + " " + f).join("\n");
  $("settings-problems").replaceChildren();
  $("form-settings").setAttribute("aria-busy", "false");
}

$("form-settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const changes = {};
  for (const element of event.target.elements) {
    if (!element.name || !element.name.includes(".") || element.disabled) continue;  // locked: not sent
    const [section, key] = element.name.split(".");
    let value = element.value;
    if (element.type === "checkbox") value = element.checked;
    else if (element.type === "number") value = Number(element.value);
    else if ("list" in element.dataset) value = element.value.split("\n").map((line) => line.trim()).filter(Boolean);
    (changes[section] = changes[section] || {})[key] = value;
  }
  if (!$("star-codes").disabled) {
    changes.star_codes = {};
    for (const line of $("star-codes").value.split("\n")) {
      const [code, feature] = line.trim().split(/\s+/);
      if (code) changes.star_codes[code] = feature || "";
    }
  }
  const list = $("settings-problems");
  list.replaceChildren();
  try {
    const result = await api("PUT", "/settings", changes);
    say(result.restart_required.length ? "Saved. Takes effect after a restart: " + result.restart_required.join(", ") : "Saved.");
  } catch (e) {
    say(describe(e, event.target), true);
    for (const p of e.problems) {
      const li = document.createElement("li");
      li.textContent = fieldOf(p.field, event.target) + ": " + p.reason;
      list.appendChild(li);
    }
  }
});

$("form-dialtest").addEventListener("submit", async (event) => {
  event.preventDefault();
  const map = $("form-settings")["dialplan.map"].value;
  try {
    const r = await api("POST", "/dialplan/test", { map, digits: event.target.digits.value });
    const words = { none: "no match", partial: "not complete yet", ambiguous: "complete (could go on)", complete: "complete", blocked: "blocked" };
    $("dialtest-result").textContent = words[r.result] + (r.number ? " — dials " + r.number : "") + (r.pattern ? " (" + r.pattern + ")" : "");
  } catch (e) { $("dialtest-result").textContent = describe(e); }
});

// --- calls and system ---------------------------------------------------------------------------

async function loadCalls() {
  const calls = await api("GET", "/calls");
  const rows = $("calls");
  rows.replaceChildren();
  for (const c of calls) {
    const tr = document.createElement("tr");
    cell(tr, new Date(c.time * 1000).toLocaleString());
    cell(tr, c.kind + (c.reason ? " (" + c.reason + ")" : ""));
    cell(tr, c.name || c.uri);
    cell(tr, c.duration_s ? Math.round(c.duration_s) + " s" : "");
    rows.appendChild(tr);
  }
}

async function loadMessages() {
  const messages = await api("GET", "/messages");
  const rows = $("messages");
  rows.replaceChildren();
  $("messages-none").hidden = messages.length > 0;
  for (const m of messages) {
    const tr = document.createElement("tr");
    cell(tr, m.at.replace("T", " ") + (m.heard ? "" : " (new)"));
    cell(tr, m.caller_name || m.caller_uri);
    cell(tr, Math.round(m.duration_s) + " s");
    const listen = document.createElement("td");
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = "/api/v1/messages/" + encodeURIComponent(m.id) + "/audio";
    const save = document.createElement("a");
    save.href = audio.src;
    save.textContent = "Download";
    save.setAttribute("download", "");
    listen.append(audio, " ", save);
    tr.appendChild(listen);
    const actions = document.createElement("td");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Delete";
    remove.addEventListener("click", async () => {
      if (!confirm("Delete the message from " + (m.caller_name || m.caller_uri) + "?")) return;
      try { await api("DELETE", "/messages/" + encodeURIComponent(m.id)); await loadMessages(); } catch (e) { handle(e); }
    });
    actions.appendChild(remove);
    tr.appendChild(actions);
    rows.appendChild(tr);
  }
}

async function loadLogs() {
  $("logs").textContent = (await api("GET", "/logs")).slice(-200).join("\n");
}

async function loadSystem() {
  status = await api("GET", "/status");
  const sys = status.system || {};
  const facts = { "Board": status.board, "Firmware": status.version, "Up for": Math.round(status.uptime_s / 60) + " min",
    "System files": sys.root_read_only ? "read-only (safe from power cuts)" : "writable",
    "Memory free": sys.memory_available_mb === undefined ? "—" : sys.memory_available_mb + " MB",
    "System slot": sys.slot ? sys.slot + (sys.slot_on_trial ? " (updated: on trial until the phone is up)" : "") : "— (not an SD card image)" };
  showFacts($("system-facts"), facts);
  const https = await api("GET", "/system/https");
  $("https").hidden = !https.enabled;
  if (https.enabled) {
    showFacts($("https-facts"), { "Certificate authority": https.ca_name,
      "Its SHA-256 fingerprint": https.ca_fingerprint,
      "The page's certificate covers": [...https.names, ...https.addresses].join(", "),
      "Valid until": https.expires ? https.expires.slice(0, 10) : "—" }, ["Its SHA-256 fingerprint"]);
  }
  lockForm($("form-password"), isLocked("web.admin_password_hash"));
  const firmware = await api("GET", "/system/firmware");
  $("firmware-status").textContent = firmware.message ? "Update: " + firmware.message : "";
  $("form-firmware").hidden = firmware.state === "unavailable";
  showSsh(await api("GET", "/system/ssh"));
  await loadLogs();
}

// SSH: the admin's keys and the host key fingerprints, as the system (root) last wrote them.
function showSsh(ssh) {
  $("ssh").hidden = !ssh.managed;
  if (!ssh.managed) return;
  $("ssh-state").textContent = ssh.enabled
    ? "SSH is on: ssh admin@" + location.hostname + (ssh.keys.length === 1 ? " (1 key)" : " (" + ssh.keys.length + " keys)")
    : ssh.message;
  const rows = $("ssh-key-rows");
  rows.replaceChildren();
  for (const key of ssh.keys) {
    const tr = document.createElement("tr");
    cell(tr, key.type + (key.type === "ssh-rsa" ? " (" + key.bits + ")" : "")).className = "narrow-hide";
    cell(tr, key.comment || "—");
    cell(tr, key.fingerprint).className = "mono";
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.appendChild(button("Remove", async () => {
      const last = ssh.keys.length === 1 ? " It is the last key: SSH turns off." : "";
      if (!confirm("Remove the key " + (key.comment || key.fingerprint) + "?" + last)) return;
      try {
        const done = await api("DELETE", "/system/ssh/keys/" + encodeURIComponent(key.id));
        say(done.result);
        showSsh(done);
      } catch (e) { handle(e); }
    }));
    tr.appendChild(actions);
    rows.appendChild(tr);
  }
  $("ssh-keys").hidden = !ssh.keys.length;
  const hosts = {};
  for (const host of ssh.host_keys) hosts["Host key " + host.type] = host.fingerprint;
  showFacts($("ssh-host-keys"), hosts, Object.keys(hosts));
}

$("form-ssh").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    say("Adding the key…");
    const done = await api("POST", "/system/ssh/keys", { key: form.key.value });
    form.reset();
    say(done.result);
    showSsh(done);
  } catch (e) { handle(e, form); }
});

$("form-password").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const result = await api("PUT", "/password", { old: event.target.old.value, new: event.target.new.value });
    if (result && result.csrf) csrf = result.csrf;
    event.target.reset();
    say("Password changed. Other sessions were logged out.");
  } catch (e) { handle(e, event.target); }
});

$("form-backup").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await download("/system/backup", { password: event.target.password.value }, "jami-phone.backup");
    event.target.reset();
    say("Backup downloaded. Keep its password: it cannot be recovered.");
  } catch (e) { handle(e); }
});

$("form-restore").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/system/restore", { password: form.password.value, data: await base64Of(form.file.files[0]) });
    form.reset();
    say("Restored. The phone restarts; this page comes back in a few seconds.");
  } catch (e) { handle(e); }
});

$("form-firmware").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = event.target.file.files[0];
  say("Uploading " + file.name + " (" + Math.round(file.size / 1048576) + " MB) and checking its signature…");
  const response = await fetch("/api/v1/system/firmware", {
    method: "POST", credentials: "same-origin", body: file,
    headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf },
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    handle(apiError(response, data));
    return;
  }
  event.target.reset();
  say("Version " + data.version + " checked and handed over: the phone installs it and reboots.");
});

$("btn-restart").addEventListener("click", async () => {
  try { await api("POST", "/system/restart"); say("The phone restarts; this page comes back in a few seconds."); } catch (e) { handle(e); }
});

$("btn-reboot").addEventListener("click", async () => {
  if (!confirm("Reboot the device? Calls in progress end.")) return;
  try { await api("POST", "/system/reboot"); say("Rebooting: this page comes back when the phone has started."); } catch (e) { handle(e); }
});

$("form-reset").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm("Erase everything on this phone? This cannot be undone.")) return;
  try {
    await api("POST", "/system/factory-reset", { confirm: event.target.confirm.value });
    csrf = null; unlisten(); $("nav").hidden = true; clearInterval(timer);
    say("Erased. The phone starts as new; set a password again.");
    setTimeout(() => start().catch(handle), 3000);
  } catch (e) { handle(e); }
});

start().catch((e) => say(describe(e), true));
