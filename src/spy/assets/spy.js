// metallab spy: renders the lab view (/api/state's JSON) and keeps it live over
// server-sent events (/api/events). Plain JS, no build step, no network beyond this server.
// The server decides everything (names, summaries, colours, the diagram's coordinates);
// this script only turns the view into DOM and ticks the clocks.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

  /** Seconds as the CLI's `status` prints them: 42s, 3m05s, 2h10m, 1d04h. */
  function human(total) {
    const t = Math.max(0, Math.floor(total));
    const pad = (n) => String(n).padStart(2, "0");
    if (t < 60) return `${t}s`;
    if (t < 3600) return `${Math.floor(t / 60)}m${pad(t % 60)}s`;
    if (t < 86400) return `${Math.floor(t / 3600)}h${pad(Math.floor((t % 3600) / 60))}m`;
    return `${Math.floor(t / 86400)}d${pad(Math.floor((t % 86400) / 3600))}h`;
  }

  // State of the page: the last view, when it arrived (for clocks), which <details> the
  // user opened (kept open across updates), how many views were rendered.
  const page = { view: null, receivedAt: 0, open: new Set(), renders: 0 };
  window.metallabSpy = page;

  // ---- connection ---------------------------------------------------------------------

  function setConnection(state, text) {
    const el = $("connection");
    el.dataset.state = state;
    $("connection-text").textContent = text;
  }

  function connect() {
    const events = new EventSource("/api/events");
    events.addEventListener("open", () => setConnection("live", "live"));
    events.addEventListener("state", (e) => {
      setConnection("live", "live");
      render(JSON.parse(e.data));
    });
    events.addEventListener("error", () => {
      setConnection("disconnected", "disconnected, reconnecting…");
      // The browser retries by itself unless the server answered with an error; then
      // start over after a pause (e.g. a new `metallab spy` on the same port).
      if (events.readyState === EventSource.CLOSED) {
        events.close();
        setTimeout(connect, 2000);
      }
    });
  }

  // ---- diagram ------------------------------------------------------------------------

  function edgeTitle(view, edgeId) {
    const edge = view.sessions.find((s) => s.id === edgeId);
    if (!edge) return "";
    const ends = edge.ends.map((e) => `${e.router}: ${e.state}`).join(", ");
    return `${edge.a.split(":").slice(1).join(":")} ⇄ ${edge.b.split(":").slice(1).join(":")}: ${edge.status} (${ends})`;
  }

  function diagram(view) {
    const d = view.diagram;
    const out = [
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${d.width} ${d.height}" width="${d.width}" height="${d.height}" role="img" aria-label="diagram of lab ${esc(view.lab)}">`,
    ];
    for (const lane of d.lanes) {
      out.push(
        `<g class="lane-group" data-network="${esc(lane.network)}"><rect class="lane" x="${lane.x}" y="${lane.y}" width="${lane.width}" height="${lane.height}" rx="4"/>` +
          `<text class="lane-label" x="${lane.x + 8}" y="${lane.y + 14}">${esc(lane.label)}</text></g>`,
      );
    }
    for (const a of d.attachments) {
      out.push(
        `<line class="attach" x1="${a.x}" y1="${a.box_y}" x2="${a.x}" y2="${a.lane_y}"/>` +
          `<circle class="attach-dot" cx="${a.x}" cy="${a.lane_y}" r="4"/>` +
          `<text class="ip" x="${a.x + 5}" y="${(a.box_y + a.lane_y) / 2 + 4}">${esc(a.ip)}</text>`,
      );
    }
    for (const e of d.edges) {
      out.push(
        `<path class="edge status-${e.status}" data-edge="${esc(e.id)}" data-status="${e.status}" d="${esc(e.d)}"><title>${esc(edgeTitle(view, e.id))}</title></path>`,
      );
    }
    for (const b of d.devices) {
      out.push(
        `<g class="device role-${b.role} health-${b.health}" data-device="${esc(b.id)}" data-health="${b.health}">` +
          `<title>${esc(b.label)}: ${esc(b.detail)} (${b.health})</title>` +
          `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="6"/>` +
          `<text class="device-label" x="${b.x + b.width / 2}" y="${b.y + 19}" text-anchor="middle">${esc(b.label)}</text>` +
          `<text class="device-detail" x="${b.x + b.width / 2}" y="${b.y + 35}" text-anchor="middle">${esc(b.detail)}</text></g>`,
      );
    }
    out.push("</svg>");
    return out.join("");
  }

  // ---- cluster ------------------------------------------------------------------------

  function cluster(view) {
    const c = view.cluster;
    const parts = [];
    if (!c) {
      return view.cluster_error ? `<h2>Cluster</h2><p class="error-line">${esc(view.cluster_error)}</p>` : "";
    }
    parts.push(`<h2>Cluster ${esc(c.name)} <span class="kind">(${esc(c.provider)})</span></h2>`);
    parts.push(`<p class="cluster-summary">${esc(c.summary)}</p>`);
    if (view.cluster_error) parts.push(`<p class="error-line">${esc(view.cluster_error)}</p>`);
    parts.push('<div class="cluster-grid"><div>');
    parts.push("<h4>LoadBalancer services</h4>");
    if (c.services.length === 0) {
      parts.push('<p class="none">none</p>');
    } else {
      parts.push("<table><thead><tr><th>service</th><th>IPs</th><th>ports</th><th>pool</th></tr></thead><tbody>");
      for (const s of c.services) {
        const ips = s.ips.length ? s.ips.map(esc).join(", ") : '<span class="pill status-connecting">pending</span>';
        parts.push(
          `<tr class="service" data-service="${esc(s.namespace)}/${esc(s.name)}"><td>${esc(s.namespace)}/${esc(s.name)}</td><td class="mono">${ips}</td><td>${esc(s.ports.join(", "))}</td><td>${esc(s.pool ?? "")}</td></tr>`,
        );
      }
      parts.push("</tbody></table>");
    }
    parts.push("</div><div><h4>MetalLB pods</h4>");
    if (c.metallb_pods.length === 0) {
      parts.push('<p class="none">none</p>');
    } else {
      parts.push("<table><thead><tr><th>pod</th><th>node</th><th>phase</th><th>ready</th><th>restarts</th></tr></thead><tbody>");
      for (const p of c.metallb_pods) {
        const ready = p.ready ? '<span class="pill status-established">ready</span>' : '<span class="pill status-down">not ready</span>';
        parts.push(
          `<tr class="pod"><td>${esc(p.name)}</td><td>${esc(p.node ?? "")}</td><td>${esc(p.phase)}</td><td>${ready}</td><td class="num">${p.restarts}</td></tr>`,
        );
      }
      parts.push("</tbody></table>");
    }
    parts.push("</div></div>");
    if (c.events.length) {
      parts.push(`<details data-key="events"><summary>recent events (${c.events.length})</summary><table><tbody>`);
      for (const e of c.events) {
        parts.push(
          `<tr class="${e.event_type === "Warning" ? "warning" : ""}"><td>${esc(e.last_seen ?? "")}</td><td>${esc(e.object_kind)}/${esc(e.object_name)}</td><td>${esc(e.reason)}</td><td>${esc(e.message)}</td></tr>`,
        );
      }
      parts.push("</tbody></table></details>");
    }
    return parts.join("");
  }

  // ---- router cards -------------------------------------------------------------------

  const HEALTH_TEXT = { ok: "ok", degraded: "degraded", unreadable: "cannot read", unknown: "not read" };

  function since(secs) {
    return secs == null ? "" : `<span data-since="${secs}">${human(secs)}</span>`;
  }

  function sessionsTable(r) {
    if (r.sessions.length === 0) return '<p class="none">no BGP sessions</p>';
    const rows = r.sessions.map((s) => {
      const tags =
        (s.peer_role === "node" ? '<span class="tag node">node</span>' : "") +
        (s.planned ? "" : '<span class="tag" title="configured in the daemon, not in the topology">not planned</span>');
      const error = s.last_error ? ` title="${esc(s.last_error)}"` : "";
      return (
        `<tr class="session" data-peer="${esc(s.peer)}" data-address="${esc(s.peer_address)}" data-state="${esc(s.state)}" data-status="${s.status}">` +
        `<td>${esc(s.peer)}${tags}</td><td class="mono">${esc(s.peer_address)}</td><td class="num">${esc(s.remote_as ?? "")}</td>` +
        `<td><span class="pill status-${s.status}"${error}>${esc(s.state)}</span></td>` +
        `<td class="num">${since(s.since_secs)}</td><td class="num">${esc(s.prefixes_received ?? "")}</td></tr>`
      );
    });
    return (
      "<table><thead><tr><th>peer</th><th>address</th><th>remote AS</th><th>state</th><th>for</th><th>received</th></tr></thead>" +
      `<tbody>${rows.join("")}</tbody></table>`
    );
  }

  function routesTable(r) {
    if (r.routes.length === 0) return '<p class="none">no BGP routes</p>';
    const rows = r.routes.map((route) => {
      const hops = route.paths.map((p) => {
        const where = p.next_hop ? esc(p.next_hop) : "local";
        const name = p.next_hop_name ? ` (${esc(p.next_hop_name)})` : "";
        const node = p.next_hop_is_node ? '<span class="tag node">node</span>' : "";
        const best = p.best ? '<span class="best" title="best path">*</span>' : "";
        const from = p.from_peer && p.from_peer !== p.next_hop_name ? ` title="from ${esc(p.from_peer)}"` : "";
        return `<span class="hop"${from}>${best}${where}${name}${node}</span>`;
      });
      const best = route.paths.find((p) => p.best) ?? route.paths[0];
      const asPath = best && best.as_path.length ? best.as_path.join(" ") : "";
      return (
        `<tr class="route" data-prefix="${esc(route.prefix)}"><td class="mono">${esc(route.prefix)}${route.local ? '<span class="tag">local</span>' : ""}</td>` +
        `<td class="mono">${hops.join("")}</td><td class="mono">${esc(asPath)}</td></tr>`
      );
    });
    return `<table><thead><tr><th>prefix</th><th>next hops</th><th>AS path</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }

  function bfdList(r) {
    const rows = r.bfd_peers.map(
      (b) =>
        `<tr class="bfd" data-peer="${esc(b.peer)}" data-state="${esc(b.state)}"><td>${esc(b.peer)}</td><td class="mono">${esc(b.peer_address)}</td>` +
        `<td><span class="pill status-${b.state === "up" ? "established" : "down"}">${esc(b.state)}</span></td><td class="num">${since(b.since_secs)}</td></tr>`,
    );
    return `<table><thead><tr><th>BFD peer</th><th>address</th><th>state</th><th>for</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }

  function kernelTable(r) {
    if (r.kernel_routes.length === 0) return '<p class="none">no kernel routes read</p>';
    const rows = r.kernel_routes.map(
      (k) =>
        `<tr><td class="mono">${esc(k.prefix)}</td><td class="mono">${esc(k.nexthops.join(", "))}</td><td>${esc(k.device ?? "")}</td><td>${esc(k.protocol ?? "")}</td><td>${esc(k.route_type ?? "")}</td></tr>`,
    );
    return `<table><thead><tr><th>prefix</th><th>via</th><th>dev</th><th>proto</th><th>type</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }

  function rawOutput(r) {
    if (r.raw.length === 0) return '<p class="none">no output (the router could not be read)</p>';
    return r.raw.map((x) => `<div class="cmd">${esc(x.command)}</div><pre>${esc(x.output)}</pre>`).join("");
  }

  function card(r) {
    const parts = [
      `<section class="card health-${r.health}" data-router="${esc(r.name)}" data-health="${r.health}">`,
      `<header><h3>${esc(r.name)}</h3><span class="kind">${esc(r.kind)}${r.asn != null ? ` · AS ${r.asn}` : ""}</span>` +
        `<span class="badge health-${r.health}">${HEALTH_TEXT[r.health] ?? esc(r.health)}</span></header>`,
      `<p class="summary">${esc(r.summary)}</p>`,
    ];
    if (r.error && r.error.includes("\n")) parts.push(`<pre class="error">${esc(r.error)}</pre>`);
    parts.push(`<div class="addresses">${r.addresses.map((a) => `${esc(a.network)} ${esc(a.ip)}/${a.prefix_len}`).join(" · ")}</div>`);
    if (r.health === "unreadable" || r.health === "unknown") {
      // Only the plan is known: the sessions it asks for, nothing about routes.
      if (r.sessions.length) parts.push("<h4>Sessions (planned)</h4>", sessionsTable(r));
      parts.push(`<p class="none">routes not known: ${r.health === "unknown" ? "not read yet" : "the router cannot be read"}</p>`);
    } else if (r.role === "host") {
      parts.push("<h4>Kernel routes</h4>", kernelTable(r));
    } else {
      parts.push("<h4>Sessions</h4>", sessionsTable(r));
      parts.push("<h4>Routes learned and originated</h4>", routesTable(r));
      if (r.bfd_peers.length) parts.push("<h4>BFD</h4>", bfdList(r));
      parts.push(`<details data-key="kernel:${esc(r.name)}"><summary>kernel routes (${r.kernel_routes.length})</summary>${kernelTable(r)}</details>`);
    }
    parts.push(
      `<details class="raw" data-key="raw:${esc(r.name)}" data-router="${esc(r.name)}"><summary>raw CLI output (${r.raw.length} command${r.raw.length === 1 ? "" : "s"})</summary>` +
        `<div class="raw-body">${rawOutput(r)}</div></details>`,
    );
    parts.push("</section>");
    return parts.join("");
  }

  // ---- page ---------------------------------------------------------------------------

  function render(view) {
    page.view = view;
    page.receivedAt = performance.now();
    page.renders += 1;
    document.title = `${view.healthy ? "" : "⚠ "}${view.lab} · metallab spy`;
    $("lab-name").textContent = view.lab;
    const summary = $("lab-summary");
    summary.textContent = view.summary;
    summary.classList.toggle("unhealthy", !view.healthy);
    // Faults put in with `metallab fault`, as `fault LAB list` names their parts.
    const faults = view.faults || [];
    const faultsEl = $("faults");
    faultsEl.hidden = faults.length === 0;
    faultsEl.textContent = faults
      .map((f) => {
        const what = [f.fault, f.router, f.network, f.node, f.daemon].filter(Boolean).join(" ");
        return `⚡ fault ${f.id}: ${what}`;
      })
      .join(" · ");
    $("diagram").innerHTML = diagram(view);
    const clusterEl = $("cluster");
    const clusterHtml = cluster(view);
    clusterEl.hidden = clusterHtml === "";
    clusterEl.innerHTML = clusterHtml;
    $("routers").innerHTML = view.routers.map(card).join("");
    for (const d of document.querySelectorAll("details[data-key]")) {
      if (page.open.has(d.dataset.key)) d.open = true;
    }
    tick();
  }

  // Clocks move between updates: updates come only when something changed.
  function tick() {
    if (!page.view) return;
    const elapsed = (performance.now() - page.receivedAt) / 1000;
    for (const el of document.querySelectorAll("[data-since]")) {
      el.textContent = human(Number(el.dataset.since) + elapsed);
    }
    $("updated").textContent = `· updated ${human(elapsed)} ago`;
  }

  // Remember which <details> are open; a raw-output panel fetches the freshest text when
  // opened (update events carry it only when the state itself changed).
  document.addEventListener(
    "toggle",
    (e) => {
      const d = e.target;
      if (!(d instanceof HTMLDetailsElement) || !d.dataset.key) return;
      if (d.open) page.open.add(d.dataset.key);
      else page.open.delete(d.dataset.key);
      if (d.open && d.classList.contains("raw")) refreshRaw(d);
    },
    true,
  );

  async function refreshRaw(details) {
    try {
      const response = await fetch("/api/state", { cache: "no-store" });
      const view = await response.json();
      const r = view.routers.find((x) => x.name === details.dataset.router);
      const body = details.querySelector(".raw-body");
      if (r && body) {
        const at = new Date(view.read_at_ms).toLocaleTimeString();
        body.innerHTML = `<p class="raw-note">read at ${esc(at)}</p>${rawOutput(r)}`;
      }
    } catch (_) {
      // Disconnected: the panel keeps the text of the last update.
    }
  }

  setInterval(tick, 1000);
  connect();
})();
