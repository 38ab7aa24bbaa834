// After a form comes back with mistakes, move focus to the summary so a screen reader announces it.
(function () {
  "use strict";
  var summary = document.getElementById("form-errors");
  if (summary) summary.focus();
})();

// Progressive enhancement for the week of times: when the patient's device is in another time zone than the
// clinic, say so and show each time in both. Without JavaScript the page is complete in the clinic's zone.
(function () {
  "use strict";
  var note = document.querySelector("[data-clinic-zone]");
  if (!note || !window.Intl) return;
  var clinicZone = note.getAttribute("data-clinic-zone");
  var patientZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!patientZone || patientZone === clinicZone) return;
  var format = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: patientZone });
  var extra = document.createElement("p");
  extra.className = "zone-note";
  extra.textContent = "Your device is set to " + patientZone + "; your local time is shown under each time.";
  note.insertAdjacentElement("afterend", extra);
  document.querySelectorAll("button[name=start][value]").forEach(function (button) {
    var local = document.createElement("span");
    local.className = "local-time";
    local.textContent = " (" + format.format(new Date(button.value.split("|")[0])) + " your time)";
    button.appendChild(local);
  });
})();
