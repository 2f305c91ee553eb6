// askscope live console (/live): keeps the page current and adds the actions.
// The server renders the page (it reads without script). Here: the member's name (localStorage),
// server-sent events from /api/live/events (on "changed" the queue, pulse and alerts are fetched
// as JSON and drawn again), the actions (POST /api/live/items/ID/actions with the CSRF token) and
// the thread of an item opened in place. Post text is only ever set with textContent: no HTML
// from the server or from a post is parsed here.
"use strict";
(function () {
  var MEMBER_KEY = "askscope.live.member";
  var MIN_REFRESH_MS = 300;
  var HOSTILE = ["question_critical", "mockery", "abuse"];

  // -- small DOM helpers --------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }
  function link(href, text, className) {
    var a = el("a", className || "", text);
    a.setAttribute("href", href);
    return a;
  }
  function button(text, action, className) {
    var b = el("button", className || "", text);
    b.type = "button";
    if (action) b.setAttribute("data-action", action);
    return b;
  }

  // -- formats (as the server's templates) ---------------------------------------------------
  function pct(x) {
    return typeof x === "number" && isFinite(x) ? (x * 100).toFixed(1) + "%" : "—";
  }
  function number(x) {
    if (typeof x !== "number" || !isFinite(x)) return "—";
    return Number.isInteger(x) ? x.toLocaleString("en-US") : String(Number(x.toPrecision(3)));
  }
  function g3(x) {
    return typeof x === "number" && isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
  }
  function duration(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) return "—";
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function when(value) {
    if (!value) return "—";
    var d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
  }
  function termsText(item) {
    var terms = item.terms || {};
    var parts = Object.keys(terms).map(function (name) { return name + " " + g3(terms[name]); });
    return parts.length ? parts.join(" + ") + " = " + g3(item.priority) : "priority " + g3(item.priority);
  }
  function label(name) {
    return String(name || "unlabelled").replace(/_/g, " ");
  }
  // an absolute http(s) URL with a host, else null (never a javascript: or data: link)
  function safeUrl(value) {
    if (typeof value !== "string" || /[\s\u0000]/.test(value)) return null;
    try {
      var u = new URL(value);
      return (u.protocol === "http:" || u.protocol === "https:") && u.host ? value : null;
    } catch (e) {
      return null;
    }
  }
  // a path of this app ("/posts?..."), else null
  function localPath(value) {
    return typeof value === "string" && value.charAt(0) === "/" && value.charAt(1) !== "/" && value.charAt(1) !== "\\"
      ? value : null;
  }
  function explorerHref(platform, id) {
    return "/posts/" + encodeURIComponent(platform) + "/" + encodeURIComponent(id);
  }

  // -- drawing -------------------------------------------------------------------------------
  function postBlock(p, classes) {
    var box = el("div", "post " + (classes || ""));
    var meta = el("div", "meta");
    add(meta, el("span", "author", "@" + (p.author || p.author_id || "?")));
    var kinds = (classes || "").split(" ");
    if (kinds.indexOf("host") >= 0) add(meta, el("span", "tag", "host"));
    if (kinds.indexOf("answer") >= 0) add(meta, el("span", "tag", "the host's answer"));
    add(meta, el("span", "", when(p.created_at)));
    if (p.platform && p.id) add(meta, link(explorerHref(p.platform, p.id), "in the explorer"));
    var original = safeUrl(p.url);
    if (original) {
      var a = link(original, "original");
      a.setAttribute("rel", "noopener noreferrer");
      a.setAttribute("target", "_blank");
      add(meta, a);
    }
    add(box, meta, el("div", "text", p.text || ""));
    return box;
  }

  function itemHead(item, rank) {
    var head = el("div", "item-head");
    if (rank) add(head, el("span", "rank", rank));
    add(head, el("span", "tag category" + (HOSTILE.indexOf(item.category) >= 0 ? " hostile" : ""), label(item.category)));
    if (item.abuse) add(head, el("span", "tag abuse", "set aside: abuse"));
    if (item.count > 1) {
      var asked = el("span", "asked", "asked " + item.count + " times");
      asked.title = "near-identical questions collapsed into this item";
      add(head, asked);
    }
    add(head, el("span", "reach", "reach " + number(item.reach)));
    var waiting = el("span", "waiting", (item.status === "open" ? "waiting " : "waited ") + duration(item.waiting_s));
    waiting.title = item.status === "open" ? "waiting time" : "waiting time until it was closed";
    add(head, waiting);
    var priority = el("span", "priority", "priority " + g3(item.priority));
    priority.title = termsText(item);
    add(head, priority);
    if (item.pinned) add(head, el("span", "tag pinned", "pinned"));
    if (item.assigned_to) add(head, el("span", "assignee", "assigned to " + item.assigned_to));
    if (item.status !== "open") {
      var by = item.closed_by ? " by " + (item.closed_by === "auto" ? "the host (detected)" : item.closed_by) : "";
      add(head, el("span", "tag status", item.status + by));
    }
    return head;
  }

  function actions(item, draft) {
    var box = el("div", "actions");
    if (item.status === "open") {
      add(box, button("Mark answered", "answered"), button("Skip", "skip"));
    } else {
      add(box, button("Reopen", "reopen"));
    }
    add(box, item.pinned ? button("Unpin", "unpin") : button("Pin", "pin"));
    var who = el("input", "assign-to");
    who.setAttribute("placeholder", "member");
    who.title = "the member to assign: you when empty";
    who.setAttribute("maxlength", "80");
    who.setAttribute("aria-label", "assign to");
    who.value = draft || "";
    add(box, who, button("Assign", "assign"));
    return box;
  }

  function detail(data) {
    var box = el("div", "detail");
    if (data.members && data.members.length > 1) {
      add(box, el("h3", "", "Asked " + data.members.length + " times"));
      var members = el("ol", "posts members");
      data.members.forEach(function (m) { add(members, add(el("li"), postBlock(m, "member"))); });
      add(box, members);
    }
    var labels = data.labels || {};
    var tasks = Object.keys(labels);
    if (tasks.length) {
      var list = el("p", "labels muted");
      add(list, "Labels: " + tasks.map(function (task) {
        var l = labels[task] || {};
        return task + " " + label(l.label) + (typeof l.probability === "number" ? " (" + pct(l.probability) + ")" : "");
      }).join(" · "));
      add(box, list);
    }
    add(box, el("p", "muted", "Priority: " + termsText(data)));
    add(box, el("h3", "", "Thread"));
    var thread = el("ol", "posts thread");
    var answerId = data.answer ? data.answer.id : null;
    (data.thread || []).forEach(function (p) {
      var classes = (p.is_host ? "host " : "") + (answerId && p.id === answerId ? "answer " : "") +
        (data.post && p.id === data.post.id ? "focus" : "");
      add(thread, add(el("li"), postBlock(p, classes)));
    });
    add(box, thread);
    return box;
  }

  // -- the page --------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("live");
    if (!root) return;
    var csrf = root.getAttribute("data-csrf") || "";
    var retry = parseInt(root.getAttribute("data-retry") || "2000", 10);
    var queueList = document.getElementById("queue");
    var memberForm = document.getElementById("member-form");
    var memberInput = document.getElementById("member");
    var message = document.getElementById("action-message");
    var connection = document.getElementById("connection");
    var statusSelect = document.getElementById("status");
    var abuseBox = document.getElementById("show-abuse");
    var assigneeInput = document.getElementById("assignee-filter");
    var view = {
      status: root.getAttribute("data-status") || "open",
      abuse: root.getAttribute("data-abuse") === "true",
      assignee: root.getAttribute("data-assignee") || "",
      limit: root.getAttribute("data-limit") || ""
    };
    var rendered = null; // the version drawn
    var expanded = {}; // item id -> its detail (null while loading)
    var drafts = {}; // item id -> the name typed in its assign field (kept across redraws)
    var busy = false;
    var stale = false; // the message says the last update failed
    var pending = false;

    memberForm.hidden = false;
    try { memberInput.value = window.localStorage.getItem(MEMBER_KEY) || ""; } catch (e) { /* storage off */ }
    memberInput.addEventListener("input", function () {
      try { window.localStorage.setItem(MEMBER_KEY, memberInput.value.trim()); } catch (e) { /* storage off */ }
    });
    memberForm.addEventListener("submit", function (event) { event.preventDefault(); });

    function say(text) { message.textContent = text || ""; }

    function getJSON(url) {
      return fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.json();
      });
    }

    function queueQuery() {
      var q = new URLSearchParams();
      if (view.status !== "open") q.set("status", view.status);
      if (view.abuse) q.set("abuse", "true");
      if (view.assignee) q.set("assignee", view.assignee);
      if (view.limit) q.set("limit", view.limit);
      return q.toString();
    }

    function queueURL() {
      var q = queueQuery();
      return "/api/live/queue?brief=true" + (q ? "&" + q : "");
    }

    function drawQueue(q) {
      var items = q.items || [];
      // a redraw keeps what a member is typing in an assign field, and the focus
      var active = document.activeElement;
      var focused = active && active.matches && active.matches("input.assign-to") && active.closest("li.item")
        ? { id: active.closest("li.item").getAttribute("data-item"), start: active.selectionStart, end: active.selectionEnd }
        : null;
      var nodes = items.map(function (item, i) {
        var li = el("li", "item status-" + item.status + (item.pinned ? " pinned" : "") + (item.abuse ? " abuse" : ""));
        li.setAttribute("data-item", item.item);
        add(li, itemHead(item, i + 1), postBlock(item.post || {}, "question"), actions(item, drafts[item.item]));
        var links = el("p", "item-links");
        var toggle = button(item.item in expanded ? "hide thread" : "thread and labels", null, "thread-toggle");
        toggle.setAttribute("aria-expanded", item.item in expanded ? "true" : "false");
        add(links, toggle, " ", link("/live/items/" + encodeURIComponent(item.item), "page"));
        add(li, links);
        if (expanded[item.item]) add(li, detail(expanded[item.item]));
        return li;
      });
      queueList.replaceChildren.apply(queueList, nodes);
      if (focused) {
        var again = queueList.querySelector('li.item[data-item="' + CSS.escape(focused.id) + '"] input.assign-to');
        if (again) {
          again.focus();
          again.setSelectionRange(focused.start, focused.end);
        }
      }
      var empty = document.getElementById("queue-empty");
      if (empty) empty.hidden = items.length > 0;
      var total = typeof q.total === "number" ? q.total : items.length;
      document.getElementById("queue-count").textContent = total > items.length
        ? "the " + items.length + " highest ranked of " + number(total) + " items"
        : number(total) + " item" + (total === 1 ? "" : "s");
      document.getElementById("abuse-hidden").textContent = q.abuse_hidden
        ? q.abuse_hidden + " abusive item" + (q.abuse_hidden === 1 ? "" : "s") + " set aside" : "";
    }

    function drawShare(id, share) {
      var dd = document.getElementById(id);
      share = share || {};
      dd.replaceChildren(
        el("span", "value", pct(share.estimate)), " ",
        el("span", "ci", "[" + pct(share.low) + ", " + pct(share.high) + "]"), " ",
        el("span", "muted kn", number(share.k) + " of " + number(share.n))
      );
    }

    function drawPulse(p) {
      drawShare("answer-rate", p.answer_rate);
      drawShare("hostile-share", p.hostile_share);
      document.getElementById("median-answer").textContent = duration(p.median_answer_s);
      document.getElementById("waiting").textContent = number(p.waiting);
      document.getElementById("questions").textContent = number(p.questions) + " (" + number(p.answered) + " answered)";
      document.getElementById("posts").textContent = number(p.posts);
      var intake = p.intake || {};
      var status = document.getElementById("live-status");
      var parts = [
        "Intake: " + (intake.source || "?") + (intake.running ? ", running" : ", stopped"),
        number(intake.stored) + " stored, " + number(intake.rejected) + " rejected"
      ];
      if (p.last_post_at) parts.push("last post " + when(p.last_post_at));
      var nodes = [parts.join(" · ")];
      if (intake.error) nodes.push(el("span", "error", " · " + intake.error));
      nodes.push(connection);
      status.replaceChildren.apply(status, nodes);
    }

    function drawAlerts(a) {
      var list = document.getElementById("alerts");
      var alerts = a.alerts || [];
      var nodes = alerts.map(function (alert) {
        var li = el("li", "alert kind-" + String(alert.kind).replace(/[^a-z_]/g, ""));
        li.setAttribute("data-alert", alert.id);
        add(li, el("span", "tag", label(alert.kind)), " ", el("span", "muted", when(alert.at)), " ",
          el("span", "message", alert.message));
        var href = localPath(alert.href);
        var n = (alert.posts || []).length;
        if (href) {
          add(li, " ", link(href, "its " + n + " post" + (n === 1 ? "" : "s"), "alert-posts"));
        } else if (n) {
          var posts = el("span", "alert-posts", "posts:");
          alert.posts.slice(0, 20).forEach(function (p, i) {
            add(posts, " ", link(explorerHref(p.platform, p.id), String(i + 1)));
          });
          add(li, " ", posts);
        }
        return li;
      });
      if (!nodes.length) nodes = [el("li", "muted none", "No alert yet.")];
      list.replaceChildren.apply(list, nodes);
    }

    function loadDetail(id) {
      return getJSON("/api/live/items/" + encodeURIComponent(id)).then(function (data) {
        if (id in expanded) expanded[id] = data;
      }, function () { delete expanded[id]; });
    }

    // fetch and draw everything; one refresh at a time, and one more if a change came meanwhile
    function refresh() {
      if (busy) { pending = true; return; }
      busy = true;
      var ids = Object.keys(expanded);
      Promise.all([getJSON(queueURL()), getJSON("/api/live/pulse"), getJSON("/api/live/alerts")]
        .concat(ids.map(loadDetail)))
        .then(function (got) {
          drawQueue(got[0]);
          drawPulse(got[1]);
          drawAlerts(got[2]);
          rendered = got[0].version;
          root.setAttribute("data-version", String(rendered));
          if (stale) { stale = false; say(""); }
        }, function (err) {
          stale = true;
          say("Could not update the page (" + err.message + "); retrying on the next change.");
        })
        .then(function () {
          // at most one refresh every MIN_REFRESH_MS: a fast replay changes the console many times a second
          window.setTimeout(function () {
            busy = false;
            if (pending) { pending = false; refresh(); }
          }, MIN_REFRESH_MS);
        });
    }

    function act(id, action, assignee) {
      var member = memberInput.value.trim();
      if (!member) {
        say("Enter your name first (Your name, above): every action is logged under it.");
        memberInput.focus();
        return;
      }
      fetch("/api/live/items/" + encodeURIComponent(id) + "/actions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ action: action, member: member, assignee: assignee || null })
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
          return { ok: false, body: { detail: "the server answered " + r.status } };
        });
      }).then(function (res) {
        if (!res.ok) { say(String(res.body.detail || "refused")); return; }
        if (action === "assign") delete drafts[id];
        say("");
        refresh();
      }, function () { say("The server cannot be reached: nothing was done; try again."); });
    }

    queueList.addEventListener("input", function (event) {
      var target = event.target;
      if (target instanceof Element && target.matches("input.assign-to")) {
        drafts[target.closest("li.item").getAttribute("data-item")] = target.value;
      }
    });
    queueList.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target instanceof Element && target.matches("input.assign-to")) {
        event.preventDefault();
        act(target.closest("li.item").getAttribute("data-item"), "assign", target.value.trim());
      }
    });
    queueList.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) return;
      var li = target.closest("li.item");
      if (!li) return;
      var id = li.getAttribute("data-item");
      if (target.matches("button[data-action]")) {
        var action = target.getAttribute("data-action");
        var who = action === "assign" ? li.querySelector("input.assign-to") : null;
        act(id, action, who ? who.value.trim() : null);
      } else if (target.matches("button.thread-toggle")) {
        if (id in expanded) {
          delete expanded[id];
          refresh();
        } else {
          expanded[id] = null;
          loadDetail(id).then(refresh);
        }
      }
    });

    function viewChanged() {
      view.status = statusSelect.value;
      view.abuse = abuseBox.checked;
      view.assignee = assigneeInput.value.trim();
      var q = queueQuery();
      window.history.replaceState(null, "", "/live" + (q ? "?" + q : ""));
      refresh();
    }
    statusSelect.addEventListener("change", viewChanged);
    abuseBox.addEventListener("change", viewChanged);
    assigneeInput.addEventListener("change", viewChanged);
    document.getElementById("queue-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      viewChanged();
    });

    // server-sent events: the first event draws the page (with its actions), then every event
    // whose version (or server instance, after a restart) differs from the last one drawn
    var seen = null;
    function connect() {
      var source = new EventSource("/api/live/events");
      source.addEventListener("open", function () {
        connection.textContent = " · updates: live";
      });
      source.addEventListener("changed", function (event) {
        var key = null;
        try {
          var data = JSON.parse(event.data);
          key = data.instance + ":" + data.version;
        } catch (e) { /* not ours: draw again */ }
        if (key === null || key !== seen) {
          seen = key;
          refresh();
        }
      });
      source.addEventListener("error", function () {
        connection.textContent = " · updates: reconnecting…";
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          window.setTimeout(connect, retry);
        }
      });
    }
    connection.textContent = " · updates: connecting…";
    connect();
    // waiting times and priorities move with the clock: draw again now and then on a quiet session
    window.setInterval(function () {
      if (!document.hidden && seen !== null) refresh();
    }, 30000);
  });
})();
