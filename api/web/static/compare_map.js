// The compare page's two-pane map: each plan's areas coloured by the hub serving them (one
// colour per site, the same in both panes, from the legend's data- attributes), the hubs
// marked and labelled, and the panes kept in step (leaflet.sync). No tiles: works offline.
(function () {
  'use strict';
  const root = document.getElementById('compare-maps');
  const legend = document.getElementById('compare-legend');
  if (!root || !legend || typeof L === 'undefined') return;

  const hubs = Array.from(legend.querySelectorAll('li[data-site]')).map((li) => ({
    site: li.dataset.site,
    name: li.dataset.name,
    colour: li.dataset.colour,
    lat: Number(li.dataset.lat),
    lon: Number(li.dataset.lon),
    panes: li.dataset.panes.split(' ').map(Number),
  }));
  const colourOf = new Map(hubs.map((h) => [h.site, h.colour]));
  const NO_HUB = '#b1b4b6';

  const panes = Array.from(root.querySelectorAll('.mdt-pane__map'));
  const maps = panes.map((el) => L.map(el, {
    attributionControl: false, zoomSnap: 0.25, minZoom: 5, maxZoom: 16, keyboard: true,
    preferCanvas: false,
  }));

  function label(text) {
    const span = document.createElement('span');
    span.className = 'mdt-hub-label__text';
    span.textContent = text;
    return span;
  }

  function addHubs(map, index) {
    hubs.filter((h) => h.panes.includes(index)).forEach((h) => {
      const dot = L.circleMarker([h.lat, h.lon], {
        radius: 7, color: '#0b0c0c', weight: 2, fillColor: h.colour, fillOpacity: 1,
        interactive: false, className: 'mdt-hub-dot',
      }).addTo(map);
      dot.getElement().setAttribute('data-site', h.site);
      L.marker([h.lat, h.lon], {
        icon: L.divIcon({ className: 'mdt-hub-label', html: label(h.name), iconSize: null, iconAnchor: [-9, 8] }),
        interactive: false, keyboard: false,
      }).addTo(map);
    });
  }

  function areasLayer(data) {
    return L.geoJSON(data, {
      style: (f) => ({
        fillColor: colourOf.get(f.properties.site_id) || NO_HUB, fillOpacity: 0.6,
        color: '#ffffff', weight: 0.6, opacity: 0.9,
      }),
      interactive: false,
    });
  }

  // after the layer is on a map with a view (Leaflet draws the paths then): mark each area's
  // path with its area and site, for the reader's tools and the tests
  function markAreas(layer) {
    layer.eachLayer((l) => {
      const el = l.getElement && l.getElement();
      if (el) {
        el.setAttribute('data-site', l.feature.properties.site_id || '');
        el.setAttribute('data-area', l.feature.properties.area_id || '');
        el.classList.add('mdt-compare-area');
      }
    });
  }

  Promise.all(panes.map((el) => fetch(el.dataset.geojson, { credentials: 'same-origin' })
    .then((r) => { if (!r.ok) throw new Error(`${el.dataset.geojson}: ${r.status}`); return r.json(); })))
    .then((docs) => {
      const layers = docs.map(areasLayer);
      const bounds = layers.reduce((b, l) => b.extend(l.getBounds()), L.latLngBounds([]));
      maps.forEach((m, i) => {
        m.fitBounds(bounds, { animate: false });
        m.setMinZoom(Math.max(0, m.getZoom() - 2));
        layers[i].addTo(m);
        markAreas(layers[i]);
        addHubs(m, i);
      });
      if (maps.length === 2) {
        maps[0].sync(maps[1]);
        maps[1].sync(maps[0]);
      }
      root.dataset.ready = '1';
    })
    .catch((err) => {
      const p = document.createElement('p');
      p.className = 'govuk-body mdt-error-text';
      p.textContent = `The map could not be drawn: ${err.message}`;
      root.after(p);
    });
}());
