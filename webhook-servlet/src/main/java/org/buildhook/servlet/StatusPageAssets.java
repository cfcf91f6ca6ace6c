package org.buildhook.servlet;

/**
 * The status page's only style sheet and script, written inline into each page with the
 * response's CSP nonce: the page fetches nothing but its own live fragments.
 */
final class StatusPageAssets {

    private StatusPageAssets() {
    }

    /** Colours by tone (see {@link StatusTone}): green ok, red bad, blue running, amber waiting, grey neutral. */
    static final String STYLE = """
            :root{--ok:#1a7f37;--bad:#cf222e;--active:#0969da;--waiting:#9a6700;--neutral:#6e7781;--line:#d0d7de;
            --muted:#57606a;--bg:#f6f8fa}
            *{box-sizing:border-box}
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:var(--bg)}
            header.top{display:flex;align-items:center;gap:1.2em;padding:.55em 1.5em;background:#24292f;color:#fff}
            header.top h1{font-size:1.1em;margin:0;font-weight:600}header.top a{color:#fff}
            #live-status{margin-left:auto;font-size:.85em;color:#c9d1d9}#live-status.stale{color:#ffaba8}
            main{padding:1em 1.5em 2em}footer.build{margin-top:2em;color:var(--muted);font-size:.85em}h2{font-size:1.05em;margin:1.5em 0 .5em}h2 small{font-weight:400;color:var(--muted)}
            code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
            .banner{background:#ffebe9;border:1px solid var(--bad);border-left:6px solid var(--bad);border-radius:6px;
            padding:.6em 1em;margin:0 0 1em}.banner pre{margin:.4em 0 0;max-height:12em;white-space:pre-wrap;overflow-wrap:anywhere}
            .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.8em}
            .tile{background:#fff;border:1px solid var(--line);border-top:4px solid #afb8c1;border-radius:6px;padding:.55em .8em}
            .tile .label{font-size:.75em;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
            .tile .value{font-size:1.9em;font-weight:600;line-height:1.25;color:#1f2328}
            .tile .detail{font-size:.8em;color:var(--muted)}.tile .count{margin-right:.4em;white-space:nowrap}
            .tile.tone-ok{border-top-color:var(--ok)}.tile.tone-bad{border-top-color:var(--bad)}
            .tile.tone-bad .value{color:var(--bad)}.tile.tone-active{border-top-color:var(--active)}
            .tile.tone-waiting{border-top-color:#d4a72c}
            table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
            th,td{border-bottom:1px solid #eaeef2;padding:5px 8px;text-align:left;vertical-align:top}
            th{background:#f6f8fa;font-weight:600;font-size:.8em;color:var(--muted)}
            table.facts th{width:11em;font-size:.85em}td.num{text-align:right;white-space:nowrap}
            span.tone-ok,p.tone-ok{color:var(--ok)}span.tone-bad,p.tone-bad{color:var(--bad)}
            span.tone-active{color:var(--active)}span.tone-waiting{color:var(--waiting)}span.tone-neutral{color:var(--neutral)}
            .chip{display:inline-block;padding:0 .55em;border-radius:1em;font-size:.78em;font-weight:600;
            border:1px solid currentColor;white-space:nowrap}
            .chip.tone-ok{background:#dafbe1}.chip.tone-bad{background:#ffebe9}.chip.tone-active{background:#ddf4ff}
            .chip.tone-waiting{background:#fff8c5}.chip.tone-neutral{background:#f6f8fa}
            tr.delivery.tone-bad>td:first-child{box-shadow:inset 3px 0 var(--bad)}
            rect.tone-ok{fill:#2da44e}rect.tone-bad{fill:var(--bad)}rect.tone-active{fill:var(--active)}
            rect.tone-waiting{fill:#d4a72c}rect.tone-neutral{fill:#8c959f}
            svg.chart{vertical-align:middle}svg .track{fill:#eaeef2}svg .p95.far{fill:#aceebb}svg .p50.far{fill:#2da44e}
            svg .p95.near{fill:#ffd8b5}svg .p50.near{fill:#bc4c00}
            .durations{font-size:.82em;color:var(--muted)}.durations svg{margin-right:.5em}.durations span{white-space:nowrap}
            td.step1{padding-left:1.4em}td.step2{padding-left:2.4em}td.step3{padding-left:3.4em}
            #rule-health td:first-child{overflow-wrap:anywhere;min-width:12ch}#rules summary,h2 code{overflow-wrap:anywhere}
            ul.jobs{list-style:none;margin:0;padding:0}ul.jobs li{padding:2px 0}
            ol.waiting{margin:0;padding-left:1.6em}ol.waiting li{padding:2px 0}
            .run{font-family:ui-monospace,monospace;font-size:.82em;background:#eaeef2;padding:0 .35em;border-radius:4px}
            table.facts td,#attempts td,#refused-builds-list td{overflow-wrap:anywhere}pre.env{white-space:pre-wrap;overflow-wrap:anywhere}
            .dur,.muted,small{color:var(--muted);font-size:.85em}a.ext{font-size:.85em}a{color:#0969da}
            button{cursor:pointer;font-size:.78em;padding:1px 8px;border:1px solid var(--line);border-radius:5px;
            background:#f6f8fa;color:#24292f}button:hover{background:#eaeef2}
            pre{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;max-height:40em}
            pre.log{background:#0d1117;color:#e6edf3;max-height:32em}
            pre.log .note{color:#79c0ff}pre.log .note-mark,.log-legend .note-mark{color:#58a6ff;font-weight:bold}
            pre.log .lookalike-mark,.log-legend .lookalike-mark{color:#d29922;font-style:italic}
            form.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:end;margin:0 0 .6em}
            label{display:flex;flex-direction:column;font-size:.8em;color:var(--muted)}
            input,select{font:inherit;font-size:1.1em;padding:2px 4px}
            #result{min-height:1.2em;margin:0 0 .5em;font-size:.9em}details summary{cursor:pointer}
            #result .warning{display:block;color:var(--waiting)}
            .paging{margin:.6em 0}time{white-space:nowrap}.scroll-x{overflow-x:auto}
            table.delivery-list td{white-space:nowrap}
            table.delivery-list td.outcome{white-space:normal;min-width:8em;max-width:24em;overflow-wrap:anywhere}
            table.delivery-list td.jobs{white-space:normal;min-width:15em;width:40%;overflow-wrap:anywhere}
            .clipped{display:inline-block;width:max-content;max-width:24ch;white-space:normal;overflow-wrap:anywhere;
            vertical-align:top}
            td.project .clipped,td.trigger .clipped{max-width:9vw}table.delivery-list td.received time{white-space:normal}
            table.delivery-list td:last-child,table.delivery-list th:last-child{position:sticky;right:0;background:#fff;
            box-shadow:inset 1px 0 #eaeef2}
            table.delivery-list th:last-child{background:#f6f8fa}
            @media (max-width:1200px){
            table.delivery-list,table.delivery-list>tbody{display:block}table.delivery-list>thead{display:none}
            table.delivery-list tr.delivery{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 1.1em;
            padding:4px 8px;border-bottom:1px solid #eaeef2}
            table.delivery-list tr.delivery>td{display:block;border:0;padding:2px 0}
            table.delivery-list tr.delivery>td.jobs{order:1;flex:1 1 100%;min-width:0;width:auto}
            table.delivery-list tr.delivery>td.outcome{min-width:0;max-width:none}
            table.delivery-list tr.delivery>td:last-child{position:static;box-shadow:none;margin-left:auto}
            td.endpoint::before{content:"endpoint "}td.build::before{content:"build "}td.project::before{content:"project "}
            td.trigger::before{content:"trigger "}td.status::before{content:"status "}
            tr.delivery td::before{color:var(--muted);font-size:.8em}tr.delivery td:empty::before{content:none}
            td.project .clipped,td.trigger .clipped,td.endpoint .clipped,td.status .clipped{max-width:min(30ch,60vw)}
            tr.delivery.tone-bad{box-shadow:inset 3px 0 var(--bad)}tr.delivery.tone-bad>td:first-child{box-shadow:none}}
            @media (max-width:900px){
            #attempts,#attempts>tbody{display:block}#attempts>thead{display:none}
            #attempts tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 1.1em;padding:4px 8px;
            border-bottom:1px solid #eaeef2}
            #attempts td{display:block;border:0;padding:2px 0;min-width:0;max-width:100%}
            #attempts td:nth-child(7),#attempts td[colspan]{flex:1 1 100%}
            #attempts td::before{color:var(--muted);font-size:.8em}#attempts td:nth-child(1)::before{content:"attempt "}
            #attempts td:nth-child(3)::before{content:"exit code "}#attempts td:nth-child(4)::before{content:"started "}
            #attempts td:nth-child(5)::before{content:"ended "}#attempts td:nth-child(6)::before{content:"node "}
            #attempts td:empty::before,#attempts td[colspan]::before{content:none}
            #nodes,#nodes>tbody{display:block}#nodes>thead{display:none}
            #nodes tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 1.1em;padding:4px 8px;
            border-bottom:1px solid #eaeef2}#nodes tr.tone-bad{box-shadow:inset 3px 0 var(--bad)}
            #nodes td{display:block;border:0;padding:2px 0;min-width:0;max-width:100%;overflow-wrap:anywhere}
            #nodes td.num{text-align:left}#nodes td:nth-child(1){order:-2}
            #nodes td:nth-child(8){order:-1;flex:1 1 100%}
            #nodes td::before{color:var(--muted);font-size:.8em}#nodes td:nth-child(2)::before{content:"host "}
            #nodes td:nth-child(3)::before{content:"pid "}#nodes td:nth-child(4)::before{content:"version "}
            #nodes td:nth-child(5)::before{content:"heard from "}#nodes td:nth-child(6)::before{content:"running jobs "}
            #nodes td:nth-child(7)::before{content:"rules "}#nodes td:empty::before{content:none}
            #rule-health,#rule-health>tbody{display:block}#rule-health>thead{display:none}
            #rule-health tr{display:flex;flex-wrap:wrap;align-items:center;gap:0 1.1em;padding:4px 8px;
            border-bottom:1px solid #eaeef2}
            #rule-health td{display:block;border:0;padding:2px 0;min-width:0;max-width:100%;overflow-wrap:anywhere}
            #rule-health td:nth-child(1),#rule-health td[colspan]{flex:1 1 100%}#rule-health td.num{text-align:left}
            #rule-health td.step1{padding-left:1em}#rule-health td.step2{padding-left:2em}
            #rule-health td.step3{padding-left:3em}#rule-health svg{max-width:100%;height:auto}
            #rule-health td::before{color:var(--muted);font-size:.8em}
            #rule-health td:nth-child(2)::before{content:"last job "}
            #rule-health td:nth-child(3)::before{content:"succeeded "}
            #rule-health td:nth-child(4)::before{content:"p50 / p95 of the timeout ";white-space:nowrap}
            #rule-health td:nth-child(5)::before{content:"recent jobs ";vertical-align:middle}
            #rule-health td:empty::before,#rule-health td[colspan]::before{content:none}
            .banner pre{max-height:none;overflow:visible}
            #resources,#resources>tbody,#refused-builds-list,#refused-builds-list>tbody{display:block}
            #resources>thead,#refused-builds-list>thead{display:none}
            #resources tr,#refused-builds-list tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 1.1em;
            padding:4px 8px;border-bottom:1px solid #eaeef2}
            #resources td,#refused-builds-list td{display:block;border:0;padding:2px 0;min-width:0;max-width:100%;
            overflow-wrap:anywhere}#resources td.num,#refused-builds-list td.num{text-align:left}
            #resources td:nth-child(3),#resources td:nth-child(4){flex:1 1 100%}
            #resources td::before,#refused-builds-list td::before{color:var(--muted);font-size:.8em}
            #resources td:nth-child(2)::before{content:"in use "}#resources td:nth-child(3)::before{content:"held by "}
            #resources td:nth-child(4)::before{content:"waiting "}
            #refused-builds-list td:nth-child(1)::before{content:"endpoint "}
            #refused-builds-list td:nth-child(2)::before{content:"build "}
            #refused-builds-list td:nth-child(3)::before{content:"project "}
            #refused-builds-list td:nth-child(4)::before{content:"status "}
            #refused-builds-list td:nth-child(5)::before{content:"trigger "}
            #refused-builds-list td:nth-child(6)::before{content:"last refused "}
            #refused-builds-list td:nth-child(7)::before{content:"503s "}
            #resources td:empty::before,#refused-builds-list td:empty::before{content:none}}
            @media (max-width:600px){
            table.facts,table.facts>tbody,table.facts tr,table.facts th,table.facts td{display:block;width:auto}
            table.facts tr{border-bottom:1px solid #eaeef2;padding:3px 8px}
            table.facts th,table.facts td{border:0;padding:0}table.facts th{background:none}
            table.facts td{overflow-wrap:anywhere}}
            ul.jobs button{opacity:.5}ul.jobs li:hover button,ul.jobs li:focus-within button{opacity:1}
            .tile .detail{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
            """;

    /**
     * Polls the page's live fragment ({@code ?part=live} with the page's other parameters) every
     * {@code data-poll} milliseconds of the body, and swaps each {@code [data-live]} element by id,
     * only where its markup changed since the last answer (a part alike is kept; within a part whose
     * rows are the same deliveries, only the rows that changed); {@code data-polls} on the body counts
     * the answers applied. A poll not answered within the body's {@code data-poll-timeout} milliseconds (60,000 when
     * absent) is given up and said ({@code has not answered within 60 s}), and the next one is scheduled (status42
     * S3). No reload, so a reader's place and open details stay. A 503 in HTML (the store does not
     * answer) says why in its body's {@code data-unavailable}, shown in the header, and its {@code [data-live]} parts
     * are swapped alike (the outage's page: its builds to re-send); a part the page lacks (a page opened before the
     * outage has no {@code #store-outage}) is shown at the top of its {@code main}, below {@code #result}, until an
     * answer is the status again (tryout29 F3). Buttons post their action with the CSRF header and refresh the live
     * parts at once; a button with {@code data-confirm} (Forget a node; Approve, Reject, Cancel, Re-run a job;
     * Replay a delivery, Cancel its jobs) asks its words first, and sends nothing when the reader cancels; one with {@code
     * data-preview} too (Approve, Re-run, Replay) first GETs that preview and adds its {@code warnings} to the words.
     * What happened is said in words in {@code #result}, each of the answer's {@code warnings} on a line of its own
     * below.
     */
    static final String SCRIPT = """
            (function () {
              var timer = null;
              // When the page last had its status from the server (UTC, as the page's times), said again in
              // "not updating since …" when it no longer does (tryout41 F9: the time went just when it mattered).
              var updated = null;
              // Why a page that was signed in is refused (AdminSession: a sign-in is never renewed).
              var SIGNED_OUT = 'signed out (a sign-in lasts LIFETIME_DAYS days and ends when admin.token changes)';
              function utcNow() { return new Date().toISOString().substring(0, 19).replace('T', ' ') + ' UTC'; }
              // An answer's own words why it is not the status (thrown so, and said as they are).
              function answered(text) { var e = new Error(text); e.answered = true; return e; }
              function status(text, stale) {
                var s = document.getElementById('live-status');
                if (s) { s.textContent = text; s.className = stale ? 'stale' : ''; }
              }
              function schedule() {
                clearTimeout(timer);
                var ms = parseInt(document.body.getAttribute('data-poll') || '0', 10);
                if (ms > 0) { timer = setTimeout(poll, ms); }
              }
              function atBottom(root) {
                var kept = {};
                root.querySelectorAll('pre.log[id]').forEach(function (p) {
                  kept[p.id] = p.scrollTop + p.clientHeight >= p.scrollHeight - 8;
                });
                return kept;
              }
              function toBottom(kept) {
                Object.keys(kept).forEach(function (id) {
                  var p = document.getElementById(id);
                  if (p && kept[id]) { p.scrollTop = p.scrollHeight; }
                });
              }
              // What each live part and each of its rows (tr[data-id]) last said, as markup: a part or a row
              // that says the same again is not swapped, so an unchanged page costs no layout and keeps its
              // nodes (page26: 5,000 job lines blocked the page 1.3-3.3 s per poll).
              var seen = {};
              function rowsOf(root) { return Array.prototype.slice.call(root.querySelectorAll('tr[data-id]')); }
              function remember(n) {
                var shell = n.cloneNode(true), rows = {};
                rowsOf(shell).forEach(function (r) {
                  rows[r.getAttribute('data-id')] = r.outerHTML;
                  while (r.firstChild) { r.removeChild(r.firstChild); }
                });
                var before = seen[n.id];
                seen[n.id] = {html: n.outerHTML, shell: shell.outerHTML, rows: rows};
                return before;
              }
              function swap(n) {
                var old = document.getElementById(n.id);
                if (!old) { return; }
                var before = seen[n.id];
                if (before && before.html === n.outerHTML) { return; }
                remember(n);
                var now = seen[n.id], mine = rowsOf(old), theirs = rowsOf(n);
                var sameRows = before && before.shell === now.shell && mine.length === theirs.length
                    && mine.every(function (r, i) {
                      return r.getAttribute('data-id') === theirs[i].getAttribute('data-id');
                    });
                if (sameRows) {
                  theirs.forEach(function (r, i) {
                    if (before.rows[r.getAttribute('data-id')] !== now.rows[r.getAttribute('data-id')]) {
                      mine[i].replaceWith(document.importNode(r, true));
                    }
                  });
                  return;
                }
                var kept = atBottom(old), fresh = document.importNode(n, true);
                if (old.hasAttribute('data-while-unavailable')) { fresh.setAttribute('data-while-unavailable', ''); }
                old.replaceWith(fresh);
                toBottom(kept);
              }
              // A part of an error answer that this page lacks (a page opened before the store stopped answering
              // has no #store-outage): shown at the top of its main, marked, and taken away by the next answer
              // that is the status (tryout29 F3: the builds refused meanwhile were shown only once the store
              // answered again, when JobServ's retries were long over).
              function shown(n) {
                var main = document.querySelector('main');
                if (!main) { return; }
                remember(n);
                var part = document.importNode(n, true), result = document.getElementById('result');
                part.setAttribute('data-while-unavailable', '');
                if (result && result.parentNode === main) { result.after(part); } else { main.prepend(part); }
              }
              function poll() {
                if (document.hidden) { schedule(); return; }
                var u = new URL(location.href);
                // A finished job's page asks for its state only (data-live-part="final", page30).
                u.searchParams.set('part', document.body.getAttribute('data-live-part') || 'live');
                // An answer that never comes (a frozen server, a proxy or network that drops packets silently)
                // would leave this fetch pending for as long as the browser keeps the connection, the corner saying
                // "live · updated …" and no next poll (status42 S3): it is given up after data-poll-timeout ms
                // (60 s unless the body says otherwise), said, and asked again.
                var bound = parseInt(document.body.getAttribute('data-poll-timeout') || '60000', 10);
                var abort = new AbortController(), late = setTimeout(function () { abort.abort(); }, bound);
                fetch(u.toString(), {credentials: 'same-origin', cache: 'no-store', signal: abort.signal,
                    headers: {'X-Buildhook-Request': '1'}})
                  .then(function (r) {
                    if (r.status === 401) { throw answered(SIGNED_OUT + ', reload to sign in'); }
                    if (!r.ok) {
                      // A plain-text answer says why; an HTML one (the store does not answer) in its body's
                      // data-unavailable, and its live parts are swapped as usual: the outage's page shows the
                      // builds refused meanwhile (page29); another, its status only.
                      var type = r.headers.get('Content-Type') || '';
                      var plain = type.indexOf('text/plain') === 0, html = type.indexOf('text/html') === 0;
                      return (plain || html ? r.text() : Promise.resolve('')).then(function (t) {
                        if (html) {
                          var doc = new DOMParser().parseFromString(t, 'text/html');
                          doc.querySelectorAll('[data-live]').forEach(function (n) {
                            if (!n.id || document.getElementById(n.id)) { swap(n); } else { shown(n); }
                          });
                          t = doc.body.getAttribute('data-unavailable') || '';
                        }
                        // Cut at 300 characters with an ellipsis, without the separator it was cut after:
                        // "…5s; ; retrying" was glued (cluster27 F5).
                        var m = t.trim();
                        if (m.length > 300) { m = m.substring(0, 300).replace(/[\\s;,:(]+$/, '') + '\\u2026'; }
                        throw answered(m ? m : 'the server answered ' + r.status);
                      });
                    }
                    return r.text();
                  })
                  .then(function (text) {
                    if (document.body.hasAttribute('data-reload-when-live')) { location.reload(); return; }
                    document.querySelectorAll('[data-while-unavailable]').forEach(function (n) {
                      delete seen[n.id];
                      n.remove();
                    });
                    var doc = new DOMParser().parseFromString(text, 'text/html');
                    doc.querySelectorAll('[data-live]').forEach(swap);
                    document.body.setAttribute('data-polls',
                        String(parseInt(document.body.getAttribute('data-polls') || '0', 10) + 1));
                    var next = doc.body.getAttribute('data-poll'), part = doc.body.getAttribute('data-live-part');
                    if (next) { document.body.setAttribute('data-poll', next); }
                    else { document.body.removeAttribute('data-poll'); }
                    if (part) { document.body.setAttribute('data-live-part', part); }
                    else { document.body.removeAttribute('data-live-part'); }
                    // In UTC as the page's own times (2026-12-05 00:06:39 UTC), not the browser's local 12-hour
                    // clock beside them (tryout38 F7: "updated 12:06:39 AM").
                    updated = utcNow();
                    status((next && !part ? 'live \\u00b7 updated ' : 'final \\u00b7 checked ') + updated, false);
                  })
                  .catch(function (err) {
                    // Since when, and why: the server's own words, or that it did not answer at all (fetch's
                    // "Failed to fetch", an answer cut off), not the browser's exception text (tryout41 F9).
                    var why = err && err.answered ? err.message : abort.signal.aborted
                        ? 'the server at ' + location.origin + location.pathname + ' has not answered within '
                            + Math.round(bound / 1000) + ' s (frozen, or the network?)'
                        : 'the server at ' + location.origin + location.pathname
                            + ' does not answer (stopped, or the network?)';
                    status('not updating' + (updated ? ' since ' + updated : '') + ': ' + why + '; retrying', true);
                  })
                  .then(function () { clearTimeout(late); schedule(); });
              }
              // A button's answer in words (the admin API's JSON is for scripts; docs/operations.md).
              function said(post, label, status, a) {
                if (status === 401) { return label + ': ' + SIGNED_OUT + '; reload the page to sign in again.'; }
                if (status >= 300) {
                  return label + ' refused: ' + (a.error || 'the server answered ' + status) + '.';
                }
                if (post.indexOf('api/nodes/') === 0) {
                  return 'Forgot node ' + a.forgotten + '; it is no longer listed.';
                }
                var action = post.substring(post.lastIndexOf('/') + 1);
                if (action === 'refused-builds') {
                  return 'Dismissed the list of ' + a.dismissed + ' build(s) to re-send.';
                }
                if (action === 'approve') { return 'Approved; the job starts.'; }
                if (action === 'reject') { return 'Rejected; the job does not run.'; }
                if (action === 'cancel' && a.delivery) {
                  // A delivery's Cancel (its answer names the delivery): the answer's counts (cancelled now, ended
                  // before), and what a running job does.
                  var n = a.cancelled || 0, ended = a.ended || 0;
                  var running = (a.jobs || []).filter(function (j) { return j.cancelled && j.state === 'RUNNING'; });
                  return (n === 0 ? 'Nothing to cancel' : 'Cancelled ' + n + (n === 1 ? ' job' : ' jobs'))
                      + ' of delivery ' + a.delivery + (ended ? '; ' + ended + ' had already ended' : '') + '.'
                      + (running.length ? ' ' + running.length + ' running: ' + (running.length === 1 ? 'its node stops'
                          + ' it' : 'their nodes stop them') + ' within runner.cancel-check (2 s unless configured).'
                          : '') + (n > running.length ? ' The others do not start.' : '');
                }
                if (action === 'cancel') {
                  return a.cancelled ? 'Cancel requested; a running job stops within runner.cancel-check'
                      + ' (2 s unless configured), one not started yet does not start.'
                      : 'Not cancelled: the job had already ended.';
                }
                if (action === 'rerun') { return 'Re-run as job ' + a.job + (a.state ? ' (' + a.state + ').' : '.'); }
                if (action === 'replay') {
                  var n = (a.jobs || []).length;
                  return n === 0 ? 'Replayed; no rule in force matches it now, so no job was created.'
                      : 'Replayed; ' + n + (n === 1 ? ' job created.' : ' jobs created.');
                }
                return label + ': done.';
              }
              // The warnings of a preview (GET …/approve-warnings): none when it cannot be had, as the CLI does.
              function previewed(path) {
                return fetch(path, {credentials: 'same-origin', cache: 'no-store',
                    headers: {'X-Buildhook-Request': '1'}})
                  .then(function (r) { return r.ok ? r.json() : {}; })
                  .then(function (a) { return a && Array.isArray(a.warnings) ? a.warnings : []; })
                  .catch(function () { return []; });
              }
              // An answer's warnings, each on a line of its own after what happened (tryout39 F6: an approval of a
              // job whose rule is not in force, a re-run of a job that has not ended; they were not shown).
              function warned(out, a) {
                (Array.isArray(a.warnings) ? a.warnings : []).forEach(function (w) {
                  var line = document.createElement('span');
                  line.className = 'warning';
                  line.textContent = 'Warning: ' + w;
                  out.appendChild(line);
                });
              }
              document.addEventListener('click', function (e) {
                var b = e.target.closest('button[data-post]');
                if (!b || b.disabled) { return; }
                // A button that cannot be undone or starts commands (Forget a node; Approve, Reject, Cancel, Re-run a
                // job; Replay a delivery) asks first; cancelled, nothing is sent. One with data-preview
                // (Approve, Re-run, Replay) asks the server first what it would warn of, and the question says it
                // (tryout39 F6).
                var ask = b.getAttribute('data-confirm'), preview = b.getAttribute('data-preview');
                if (ask && preview) {
                  b.disabled = true;
                  previewed(preview).then(function (warnings) {
                    b.disabled = false;
                    var words = warnings.map(function (w) { return '\\n\\nWarning: ' + w; }).join('');
                    if (window.confirm(ask + words)) { send(b); }
                  });
                  return;
                }
                if (ask && !window.confirm(ask)) { return; }
                send(b);
              });
              function send(b) {
                b.disabled = true;
                var out = document.getElementById('result');
                fetch(b.getAttribute('data-post'), {method: b.getAttribute('data-method') || 'POST',
                    credentials: 'same-origin',
                    headers: {'X-Buildhook-Request': '1'}})
                  .then(function (r) { return r.text().then(function (t) { return [r.status, t]; }); })
                  .then(function (a) {
                    var answer = {};
                    try { answer = JSON.parse(a[1]) || {}; } catch (ignored) { answer = {}; }
                    out.textContent = said(b.getAttribute('data-post'), b.textContent, a[0], answer);
                    if (a[0] < 300) { warned(out, answer); }
                    b.disabled = false;
                    if (a[0] < 300) { clearTimeout(timer); poll(); }
                  })
                  .catch(function (err) { out.textContent = b.textContent + ' failed: ' + err; b.disabled = false; });
              }
              document.addEventListener('DOMContentLoaded', function () {
                document.querySelectorAll('pre.log[id]').forEach(function (p) { p.scrollTop = p.scrollHeight; });
                document.querySelectorAll('[data-live][id]').forEach(remember);
                if (document.body.hasAttribute('data-reload-when-live')) {
                  status('waiting for the store \\u00b7 retrying', true);
                } else if (document.body.getAttribute('data-live-part')) { updated = utcNow(); status('final', false);
                } else if (document.body.getAttribute('data-poll')) { updated = utcNow(); status('live', false); }
                schedule();
              });
            })();
            """.replace("LIFETIME_DAYS", Integer.toString(AdminSession.LIFETIME_DAYS));
}
