/* mdtplan map controls: derived area layers, hubs above every area layer (labelled), the
 * breaches layers, the layer control, a legend listing the visible layers only, a hub search, an
 * optional link back, zoom limits and a short keyboard route.  Inlined into map.html by
 * mdtplan.outputs.maps; every string in `cfg` is HTML-escaped there already. */
(function () {
  "use strict";
  var NARROW_PX = 640;
  var MAX_ZOOM = 17;

  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }

  function narrow(map) {
    return map.getContainer().clientWidth < NARROW_PX;
  }

  function pane(map, name, z) {
    var p = map.getPane(name) || map.createPane(name);
    p.style.zIndex = String(z);
    return name;
  }

  /* the hatch patterns (one hidden <svg> per page); fills refer to them as url(#id) */
  function ensurePatterns() {
    if (document.getElementById("mdt-patterns")) { return; }
    var svg = '<svg id="mdt-patterns" width="0" height="0" style="position:absolute" ' +
      'aria-hidden="true" focusable="false"><defs>' +
      '<pattern id="mdt-hatch-beyond" width="8" height="8" patternUnits="userSpaceOnUse" ' +
      'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>' +
      '<rect width="3.5" height="8" fill="#b2182b"/></pattern>' +
      '<pattern id="mdt-hatch-today" width="8" height="8" patternUnits="userSpaceOnUse" ' +
      'patternTransform="rotate(-45)"><rect width="8" height="8" fill="#ffffff"/>' +
      '<rect width="3.5" height="8" fill="#542788"/></pattern>' +
      '<pattern id="mdt-hatch-unserved" width="8" height="8" patternUnits="userSpaceOnUse">' +
      '<rect width="8" height="8" fill="#ffffff"/><path d="M0 0L8 8M8 0L0 8" ' +
      'stroke="#000000" stroke-width="1.6"/></pattern></defs></svg>';
    var holder = document.createElement("div");
    holder.innerHTML = svg;
    document.body.insertBefore(holder.firstChild, document.body.firstChild);
  }

  function areaTooltip(p, extra) {
    return "<b>" + p.name + "</b><br>Hub: " + p.hub_name + (extra || "");
  }

  /* areas drawn from `data` (the "Areas by hub" GeoJSON, not stored twice) */
  function areaLayer(data, opts) {
    return L.geoJson(data, {
      pane: opts.pane || "overlayPane",
      filter: opts.filter,
      style: opts.style,
      onEachFeature: function (f, l) { l.bindTooltip(opts.tooltip(f.properties)); }
    });
  }

  function ring(latlng, paneName, tooltip) {
    return L.circleMarker(latlng, {pane: paneName, radius: 15, color: "#b2182b", weight: 3,
      dashArray: "5 3", fill: false, className: "mdt-band-ring"}).bindTooltip(tooltip);
  }

  function buildHubs(map, cfg, hubPane) {
    var group = L.featureGroup();
    var byId = {};
    cfg.hubs.forEach(function (h) {
      var m = L.circleMarker([h.lat, h.lon], {pane: hubPane, radius: 8, color: "#ffffff",
        weight: 3, fill: true, fillColor: h.colour, fillOpacity: 1, className: "mdt-hub"});
      m.bindPopup(h.popup, {maxWidth: 360});
      m.bindTooltip(h.label, {permanent: true, direction: "right", offset: [9, 0],
        className: "mdt-hub-label", pane: "mdtLabels"});
      m.mdtHub = h;
      group.addLayer(m);
      byId[h.id] = m;
    });
    return {group: group, byId: byId};
  }

  function buildToday(cfg, paneName, ringPane, data) {
    var group = L.featureGroup();
    if (!cfg.today) { return group; }
    group.addLayer(areaLayer(data, {pane: "mdtBreaches",
      filter: function (f) { return f.properties.base_beyond || f.properties.base_unserved; },
      style: function (f) {
        var unserved = f.properties.base_unserved;
        return {fillColor: unserved ? "url(#mdt-hatch-unserved)" : "url(#mdt-hatch-today)",
          fillOpacity: 0.85, color: "#2d004b", weight: 2, dashArray: "6 3",
          className: "mdt-area mdt-breach-today"};
      },
      tooltip: function (p) {
        return areaTooltip(p, p.base_unserved ? "<br>Today: no site reaches it"
          : "<br>Today: " + p.base_travel + " to " + p.base_site + " (beyond the limit)");
      }}));
    cfg.today.sites.forEach(function (s) {
      group.addLayer(L.circleMarker([s.lat, s.lon], {pane: paneName, radius: 6, color: "#2d004b",
        weight: 2, fill: true, fillColor: "#ffffff", fillOpacity: 1,
        className: "mdt-today-site"}).bindTooltip(s.tooltip));
      if (s.outside) { group.addLayer(ring([s.lat, s.lon], ringPane, s.tooltip)); }
    });
    return group;
  }

  function legendControl(map, cfg, entries) {
    var ctl = L.control({position: "bottomright"});
    var id = cfg.uid + "-legend";
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "mdt-legend");
      div.setAttribute("role", "region");
      div.setAttribute("aria-label", "Legend");
      var btn = el("button", {type: "button", "class": "mdt-legend-toggle",
        "aria-controls": id, "aria-expanded": "true"}, "Legend");
      // scrolls when long: a tab stop, so the keyboard can scroll it too
      var body = el("div", {id: id, "class": "mdt-legend-body", tabindex: "0",
        role: "group", "aria-label": "Legend of the layers shown"});
      div.appendChild(btn);
      div.appendChild(body);
      ctl.body = body;
      ctl.button = btn;
      ctl.setOpen = function (open) {
        btn.setAttribute("aria-expanded", open ? "true" : "false");
        body.hidden = !open;
        div.classList.toggle("mdt-collapsed", !open);
      };
      L.DomEvent.on(btn, "click", function () {
        ctl.setOpen(btn.getAttribute("aria-expanded") !== "true");
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.refresh = function () {
      var html = cfg.legend_head;
      entries.forEach(function (e) {
        if (e.layer && map.hasLayer(e.layer)) {
          html += '<section class="mdt-sec" data-layer="' + e.name + '"><h2>' + e.name +
            "</h2>" + e.html + "</section>";
        }
      });
      ctl.body.innerHTML = html;
    };
    return ctl;
  }

  function searchControl(map, cfg, hubs) {
    var ctl = L.control({position: "topleft"});
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "mdt-top");
      if (cfg.back) {
        div.appendChild(el("a", {href: cfg.back.href, target: "_top", "class": "mdt-back"},
          "&larr; " + cfg.back.text));
      }
      var inputId = cfg.uid + "-find", listId = cfg.uid + "-hubs";
      var find = el("div", {"class": "mdt-find"});
      find.appendChild(el("label", {"for": inputId}, "Find a hub"));
      var input = el("input", {id: inputId, type: "search", list: listId, autocomplete: "off",
        spellcheck: "false"});
      var list = el("datalist", {id: listId});
      cfg.hubs.slice().sort(function (a, b) { return a.search.localeCompare(b.search); })
        .forEach(function (h) { list.appendChild(el("option", {value: h.search})); });
      var go = el("button", {type: "button"}, "Go");
      var msg = el("span", {"class": "mdt-find-msg", role: "status"});
      find.appendChild(input);
      find.appendChild(list);
      find.appendChild(go);
      find.appendChild(msg);
      div.appendChild(find);

      function match(text) {
        var q = text.trim().toLowerCase();
        if (!q) { return null; }
        var all = cfg.hubs, i;
        for (i = 0; i < all.length; i++) { if (all[i].search.toLowerCase() === q) { return all[i]; } }
        for (i = 0; i < all.length; i++) {
          if (all[i].search.toLowerCase().indexOf(q) === 0) { return all[i]; }
        }
        for (i = 0; i < all.length; i++) {
          if (all[i].search.toLowerCase().indexOf(q) >= 0) { return all[i]; }
        }
        return null;
      }

      function show() {
        var h = match(input.value);
        if (!h) {
          msg.textContent = input.value.trim() ? "No hub matches \u201c" + input.value.trim() +
            "\u201d" : "";
          return;
        }
        msg.textContent = "";
        var marker = hubs.byId[h.id];
        if (!map.hasLayer(hubs.group)) { map.addLayer(hubs.group); }
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 12), {animate: false});
        marker.openPopup();
      }
      L.DomEvent.on(go, "click", show);
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); show(); }
      });
      L.DomEvent.on(input, "change", function () { if (match(input.value)) { show(); } });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return ctl;
  }

  /* each hub's label to the right of it, else to the left, else hidden (bigger hubs first) */
  function declutter(map, hubs) {
    if (!map.hasLayer(hubs.group)) { return; }
    var kept = [];
    var box = map.getContainer().getBoundingClientRect();
    function clashes(r) {
      var off = r.left < box.left || r.right > box.right;  // cut by the map's edge
      return off || kept.some(function (k) {
        return !(r.right + 2 < k.left || r.left - 2 > k.right ||
                 r.bottom + 1 < k.top || r.top - 1 > k.bottom);
      });
    }
    function place(tip, direction) {
      tip.options.direction = direction;
      tip.options.offset = direction === "left" ? [-9, 0] : [9, 0];
      tip.update();
      return tip.getElement().getBoundingClientRect();
    }
    var markers = Object.keys(hubs.byId).map(function (k) { return hubs.byId[k]; })
      .sort(function (a, b) { return b.mdtHub.population - a.mdtHub.population; });
    // every hub's own marker is taken first: no label may cover another hub
    markers.forEach(function (m) {
      var e = m.getElement();
      if (e) { kept.push(e.getBoundingClientRect()); }
    });
    markers.forEach(function (m) {
      var tip = m.getTooltip();
      var node = tip && tip.getElement();
      if (!node) { return; }
      node.classList.remove("mdt-label-hidden");
      var r = place(tip, "right");
      if (clashes(r)) { r = place(tip, "left"); }
      if (clashes(r)) { node.classList.add("mdt-label-hidden"); } else { kept.push(r); }
    });
  }

  window.mdtMapUi = function (map, layers, cfg) {
    ensurePatterns();
    pane(map, "mdtOutlines", 420);
    pane(map, "mdtBreaches", 450);
    pane(map, "mdtToday", 620);
    pane(map, "mdtRings", 630);
    var hubPane = pane(map, "mdtHubs", 640);
    pane(map, "mdtLabels", 645);
    map.getPane("mdtLabels").style.pointerEvents = "none";

    var data = layers.areas.toGeoJSON();
    var met = areaLayer(data, {
      style: function (f) {
        return {fillColor: f.properties.met_colour, color: "#ffffff", weight: 0.6,
          fillOpacity: 1, className: "mdt-area mdt-area-met"};
      },
      tooltip: function (p) {
        return areaTooltip(p, "<br>Demand met at the hub: " + (p.met_pct || "no data"));
      }});
    var travel = areaLayer(data, {
      style: function (f) {
        var far = f.properties.beyond;
        return {fillColor: far ? "url(#mdt-hatch-beyond)" : f.properties.travel_colour,
          color: far ? "#000000" : "#ffffff", weight: far ? 2 : 0.6, fillOpacity: 1,
          className: "mdt-area mdt-area-travel" + (far ? " mdt-beyond" : "")};
      },
      tooltip: function (p) {
        return areaTooltip(p, "<br>Travel to hub: " + (p.travel || "no data") +
          (p.beyond ? " (beyond the limit)" : ""));
      }});
    var planBreaches = L.featureGroup([areaLayer(data, {pane: "mdtBreaches",
      filter: function (f) { return f.properties.beyond; },
      style: function () {
        return {fillColor: "url(#mdt-hatch-beyond)", fillOpacity: 0.85, color: "#000000",
          weight: 2, className: "mdt-area mdt-breach-plan"};
      },
      tooltip: function (p) { return areaTooltip(p, "<br>" + p.travel + " (beyond the limit)"); }
    })]);
    cfg.hubs.forEach(function (h) {
      if (h.outside) { planBreaches.addLayer(ring([h.lat, h.lon], "mdtRings", h.band_text)); }
    });
    var today = buildToday(cfg, "mdtToday", "mdtRings", data);
    var hubs = buildHubs(map, cfg, hubPane);

    // outlines above the area fills, below the breaches and hubs
    [layers.pools, layers.localities].forEach(function (g) {
      if (!g) { return; }
      var on = map.hasLayer(g);
      if (on) { map.removeLayer(g); }
      g.eachLayer(function (l) {
        if (l.setStyle || l.eachLayer) {
          l.options.pane = "mdtOutlines";
          if (l.eachLayer) { l.eachLayer(function (s) { if (s.setStyle) { s.options.pane = "mdtOutlines"; } }); }
        }
      });
      if (on) { map.addLayer(g); }
    });

    var named = {};
    var entries = [];
    cfg.layers.forEach(function (d) {
      var layer = {areas: layers.areas, met: met, travel: travel, plan_breaches: planBreaches,
        today: today, pools: layers.pools, localities: layers.localities,
        hubs: hubs.group}[d.key];
      if (!layer) { return; }
      named[d.name] = layer;
      entries.push({name: d.name, html: d.legend, layer: layer});
      if (d.show && !map.hasLayer(layer)) { map.addLayer(layer); }
      if (!d.show && map.hasLayer(layer)) { map.removeLayer(layer); }
    });
    var overlays = {};
    overlays[cfg.basemap_name] = layers.tiles;
    Object.keys(named).forEach(function (k) { overlays[k] = named[k]; });
    var small = narrow(map);
    var control = L.control.layers(null, overlays, {collapsed: small, position: "topright",
      autoZIndex: false}).addTo(map);
    var legend = legendControl(map, cfg, entries).addTo(map);
    legend.setOpen(!small);
    legend.refresh();
    searchControl(map, cfg, hubs).addTo(map);
    if (map.zoomControl) { map.zoomControl.remove(); map.zoomControl.addTo(map); }
    L.control.fullscreen({position: "topleft", title: "Full screen",
      titleCancel: "Exit full screen", forceSeparateButton: true}).addTo(map);

    map.on("layeradd layerremove", function (e) {
      if (entries.some(function (x) { return x.layer === e.layer; })) {
        legend.refresh();
        if (e.layer === hubs.group) { setTimeout(function () { declutter(map, hubs); }, 0); }
      }
    });
    map.on("zoomend moveend", function () { declutter(map, hubs); });

    // keyboard: the controls come first (before the shapes) in the tab order; areas are no
    // tab stops (hover or search for them); a hub opens its pop-up with Enter or Space
    var container = map.getContainer();
    container.insertBefore(map._controlContainer, container.firstChild);
    [met, travel, layers.areas].forEach(function (g) {
      g.eachLayer(function (l) { var e = l.getElement && l.getElement(); if (e) { e.setAttribute("tabindex", "-1"); } });
      g.on("add", function () {
        g.eachLayer(function (l) { var e = l.getElement && l.getElement(); if (e) { e.setAttribute("tabindex", "-1"); } });
      });
    });
    function hubKeys() {
      hubs.group.eachLayer(function (m) {
        var e = m.getElement();
        if (!e || e.mdtKeys) { return; }
        e.mdtKeys = true;
        e.setAttribute("tabindex", "0");
        e.setAttribute("role", "button");
        e.setAttribute("aria-label", m.mdtHub.search);
        L.DomEvent.on(e, "keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); m.openPopup(); }
        });
      });
    }
    hubs.group.on("add", hubKeys);
    hubKeys();

    // zoom: the county fills the view at the least zoom; street level at most
    var bounds = L.latLngBounds(cfg.bounds);
    function fitOptions() {
      if (narrow(map)) { return {padding: [8, 8]}; }
      var right = Math.max(control.getContainer().offsetWidth,
        legend.getContainer().offsetWidth) + 16;
      return {paddingTopLeft: [16, 16], paddingBottomRight: [right, 16]};
    }
    function limits() {
      var fit = map.getBoundsZoom(bounds, false, L.point(16, 16));
      map.setMinZoom(Math.max(0, Math.floor(fit * 4) / 4 - 0.5));
    }
    map.setMaxZoom(MAX_ZOOM);
    map.fitBounds(bounds, fitOptions());
    limits();
    map.setMaxBounds(bounds.pad(0.35));
    map.options.maxBoundsViscosity = 0.9;
    map.on("resize", limits);
    declutter(map, hubs);
    map.mdt = {legend: legend, control: control, hubs: hubs, layers: named};
  };
})();
