// The desk's light enhancements; every page works without them.
// - The calendar asks every few seconds whether anything changed and, if so, fetches itself again (keeping the
//   focus and the scroll); it says so when it cannot, e.g. once the session has ended.
// - Patient search shows results as you type.
// - A booked appointment's card can be dragged to another time (or practitioner, or day) and dropped.
(function () {
  "use strict";
  var POLL_MS = 5000;
  var POLL_HEADERS = { "X-Meridian-Poll": "1", "X-Requested-With": "fetch" };

  var SIGNED_OUT = "You are signed out, so this calendar has stopped updating. Reload the page to sign in again.";
  var UNREACHABLE = "Could not check for changes just now, so the calendar may be out of date. Trying again.";

  function say(text) {
    var status = document.getElementById("poll-status");
    if (status.textContent !== text) status.textContent = text;
  }

  // A sign-in page (the session ended while the screen was left open) or a refusal is not a calendar: say so
  // instead of quietly showing an old day.
  function signedOut(response) {
    return response.redirected || response.status === 401 || response.status === 403;
  }

  function pollCalendar(region) {
    var busy = false;
    var timer = setInterval(function () {
      var calendar = document.getElementById("calendar");
      if (busy || !calendar || document.hidden || region.dataset.dragging) return;
      busy = true;
      fetch(region.dataset.changesUrl, { headers: POLL_HEADERS, credentials: "same-origin" })
        .then(function (response) {
          if (signedOut(response)) throw new Error("signed out");
          if (!response.ok) throw new Error("no stamp");
          return response.json();
        })
        .then(function (body) {
          if (document.getElementById("poll-status").textContent === UNREACHABLE) say("");
          if (body.stamp === calendar.dataset.stamp) return null;
          var url = new URL(window.location.href);
          url.searchParams.set("partial", "1");
          return fetch(url, { headers: POLL_HEADERS, credentials: "same-origin" }).then(function (response) {
            if (signedOut(response)) throw new Error("signed out");
            if (!response.ok) throw new Error("no calendar");
            return response.text();
          }).then(function (html) {
            swapCalendar(region, html);
            say("The calendar was updated.");
          });
        })
        .catch(function (error) {
          if (error.message === "signed out") {
            clearInterval(timer);
            say(SIGNED_OUT);
          } else {
            say(UNREACHABLE);
          }
        })
        .then(function () { busy = false; });
    }, POLL_MS);
  }

  // The new calendar replaces the old one where it stands: the card (or link) that had the focus gets it back,
  // and the calendar keeps its sideways scroll, so nobody at the desk loses their place to a colleague's change.
  function swapCalendar(region, html) {
    var old = document.getElementById("calendar");
    var focused = region.contains(document.activeElement) ? document.activeElement : null;
    var card = focused && focused.closest(".card");
    var selector = card ? '.card[data-appointment="' + card.dataset.appointment + '"]'
      : focused && focused.getAttribute("href") ? 'a[href="' + CSS.escape(focused.getAttribute("href")) + '"]' : null;
    var scrollLeft = old.scrollLeft;
    region.innerHTML = html;
    var calendar = document.getElementById("calendar");
    calendar.scrollLeft = scrollLeft;
    enableDragging(region);
    if (focused) {
      // A card that left this view (moved to another day, cancelled): the focus stays in the calendar.
      var again = selector && region.querySelector(selector);
      (again || calendar).focus({ preventScroll: true });
    }
  }

  function moveTo(card, body, clientY) {
    var calendar = document.getElementById("calendar");
    var rows = getComputedStyle(body).gridTemplateRows.split(" ").length;
    var rowHeight = body.getBoundingClientRect().height / rows;
    var row = Math.max(0, Math.floor((clientY - body.getBoundingClientRect().top) / rowHeight));
    var minute = Number(calendar.dataset.first) + row * Number(calendar.dataset.step);
    var form = document.createElement("form");
    form.method = "post";
    form.action = card.dataset.moveUrl;
    var fields = {
      csrfmiddlewaretoken: calendar.dataset.csrf,
      practitioner: body.dataset.practitioner,
      day: body.dataset.day,
      time: String(Math.floor(minute / 60)).padStart(2, "0") + ":" + String(minute % 60).padStart(2, "0"),
      next: window.location.pathname + window.location.search,
    };
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function enableDragging(region) {
    region.querySelectorAll('.card[draggable="true"]').forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", card.dataset.appointment);
        card.classList.add("dragging");
        region.dataset.dragging = "1";
      });
      card.addEventListener("dragend", function () {
        card.classList.remove("dragging");
        delete region.dataset.dragging;
      });
    });
    region.querySelectorAll(".column-body[data-practitioner]").forEach(function (body) {
      body.addEventListener("dragover", function (event) { event.preventDefault(); body.classList.add("drop-target"); });
      body.addEventListener("dragleave", function () { body.classList.remove("drop-target"); });
      body.addEventListener("drop", function (event) {
        event.preventDefault();
        body.classList.remove("drop-target");
        var card = region.querySelector('.card[data-appointment="' + event.dataTransfer.getData("text/plain") + '"]');
        if (card) moveTo(card, body, event.clientY);
      });
    });
  }

  function searchAsYouType(input) {
    var results = document.getElementById(input.getAttribute("aria-controls"));
    var pick = input.form && input.form.method === "post" ? "&pick=1" : "";
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = input.dataset.searchUrl + "?partial=1" + pick + "&q=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) { if (html !== null) results.innerHTML = html; })
          .catch(function () {});
      }, 200);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("calendar-region");
    if (region) {
      enableDragging(region);
      pollCalendar(region);
    }
    var search = document.getElementById("patient-search");
    if (search) searchAsYouType(search);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
