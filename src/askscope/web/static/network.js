// askscope networks page: the coordinated groups drawn with cytoscape.js (static/vendor) from the
// JSON the page names in data-src. Nodes are accounts (colour: their group; size: their posts), edges
// their significant co-action edges (width: times they acted together). Hover shows an account,
// click opens its page. The table under the drawing lists the same groups for readers without script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("network");
  if (!box || typeof cytoscape !== "function") return;
  box.style.height = "520px";
  var status = document.createElement("p");
  status.className = "muted";
  status.id = "network-status";
  status.textContent = "Hover over an account to see it; click to open its page.";
  box.parentNode.insertBefore(status, box.nextSibling);
  var hue = function (text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 360;
    return "hsl(" + h + ", 60%, 45%)";
  };
  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      var elements = [];
      data.nodes.forEach(function (n) {
        var group = n.groups && n.groups.length ? n.groups[0] : "";
        elements.push({
          group: "nodes",
          data: {
            id: n.platform + ":" + n.id,
            platform: n.platform,
            account: n.id,
            label: "@" + (n.handle || n.id),
            groups: (n.groups || []).join(", "),
            posts: n.posts,
            colour: hue(group),
            size: 12 + Math.min(30, 4 * Math.sqrt(n.posts || 0)),
          },
        });
      });
      data.edges.forEach(function (e, i) {
        elements.push({
          group: "edges",
          data: {
            id: "e" + i,
            source: e.platform + ":" + e.source,
            target: e.platform + ":" + e.target,
            weight: e.weight,
            network: e.network,
            width: 1 + Math.min(8, e.weight),
          },
        });
      });
      var cy = cytoscape({
        container: box,
        elements: elements,
        style: [
          {
            selector: "node",
            style: {
              "background-color": "data(colour)",
              width: "data(size)",
              height: "data(size)",
              label: "data(label)",
              "font-size": 9,
              color: "#1d232a",
            },
          },
          { selector: "edge", style: { width: "data(width)", "line-color": "#9aa5b1", opacity: 0.7 } },
          { selector: "node.hover", style: { "border-width": 3, "border-color": "#1d232a" } },
        ],
        layout: { name: "cose", animate: false, randomize: false },
        wheelSensitivity: 0.3,
      });
      cy.on("mouseover", "node", function (event) {
        var d = event.target.data();
        event.target.addClass("hover");
        status.textContent = d.label + " · " + d.posts + " posts · groups " + d.groups;
      });
      cy.on("mouseout", "node", function (event) {
        event.target.removeClass("hover");
      });
      cy.on("tap", "node", function (event) {
        var d = event.target.data();
        var params = new URLSearchParams({ db: box.dataset.db || "" });
        window.location.assign(
          "/accounts/" + encodeURIComponent(d.platform) + "/" + encodeURIComponent(d.account) + "?" + params.toString()
        );
      });
      box.dataset.ready = String(cy.nodes().length);
    })
    .catch(function (error) {
      status.textContent = "The network could not be drawn (" + error.message + "); the table below lists the groups.";
    });
});
