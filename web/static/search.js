/* 新闻检索: progressive enhancement only. Every page works without this file.
 *
 * 1. Suggestions for the search box (ARIA 1.2 combobox + listbox, fed by /api/suggest):
 *    ArrowDown/ArrowUp move, Enter picks, Escape closes, a click picks.
 * 2. The facet panel starts collapsed on narrow screens (it is rendered open for no-JS users).
 * 3. A filter box inside a long facet list (hidden without script: the list and its 全部 link work).
 */
(function () {
  "use strict";

  var TYPE_LABELS = {
    title: "标题", place: "地点", person: "人物", reporter: "记者",
    org: "机构", word: "词语", keyword: "词语"
  };
  var DEBOUNCE_MS = 150;

  function setupCombobox(input) {
    var listbox = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.getAttribute("data-suggest-url");
    if (!listbox || !url || !window.fetch) { return; }
    var form = input.form;
    var items = [];
    var active = -1;
    var timer = null;
    var lastQuery = null;
    var controller = null;

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = listbox.querySelectorAll("[role=option]");
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      input.value = item.text;
      close();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }

    function render(list) {
      items = list;
      listbox.textContent = "";
      if (!list.length) { close(); return; }
      list.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = listbox.id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var text = document.createElement("span");
        text.className = "suggestion-text";
        text.textContent = item.text;            // textContent: never parsed as HTML
        var type = document.createElement("span");
        type.className = "suggestion-type";
        type.textContent = TYPE_LABELS[item.type] || item.type || "";
        li.appendChild(text);
        li.appendChild(type);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();                // keep focus in the input
          choose(i);
        });
        listbox.appendChild(li);
      });
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      if (q === lastQuery) { return; }
      lastQuery = q;
      if (!q) { render([]); return; }
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value.trim() === q && document.activeElement === input) {
            render((data && data.suggestions) || []);
          }
        })
        .catch(function () { /* aborted or offline: the plain form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        if (!open) { lastQuery = null; fetchSuggestions(); return; }
        event.preventDefault();
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) { return; }
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(active); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      }
    });

    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function collapseFacetsOnNarrowScreens() {
    if (!window.matchMedia || !window.matchMedia("(max-width: 860px)").matches) { return; }
    var panels = document.querySelectorAll("details[data-collapse-narrow]");
    for (var i = 0; i < panels.length; i++) { panels[i].open = false; }
  }

  function setupFacetFilter(input) {
    var list = document.querySelector('ul[data-facet-list="' + input.getAttribute("data-facet-filter") + '"]');
    if (!list) { return; }
    input.hidden = false;
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      var items = list.querySelectorAll("li");
      for (var i = 0; i < items.length; i++) {
        var label = items[i].querySelector(".facet-label");
        var text = label ? label.textContent.toLowerCase() : "";
        items[i].hidden = needle !== "" && text.indexOf(needle) === -1;
      }
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[role=combobox][data-suggest-url]");
    for (var i = 0; i < inputs.length; i++) { setupCombobox(inputs[i]); }
    var filters = document.querySelectorAll("input[data-facet-filter]");
    for (var j = 0; j < filters.length; j++) { setupFacetFilter(filters[j]); }
    collapseFacetsOnNarrowScreens();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
