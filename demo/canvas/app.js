// Field Inspections: a canvas app over the host API (window.Outpost). It
// lists the technician's work orders from the device's store and records
// an inspection by updating the work order, and takes a site photo into
// the work order's image column with the Offline template's <outpost-file>
// (over Outpost.Files); all of it works offline.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const Tables = Outpost.Tables;
  let current = null;

  function text(el, s) { el.textContent = s; }

  async function showList() {
    $("inspect-screen").hidden = true;
    $("list-screen").hidden = false;
    const page = await Tables.list("workorder", { search: $("search").value, orderby: "scheduledstart", top: 50 });
    text($("count"), page.total.toLocaleString() + (page.more ? "+" : "") + (page.total === 1 && !page.more ? " work order" : " work orders") + " on this device");
    const list = $("orders");
    list.replaceChildren();
    for (const row of page.rows) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.id = row.workorderid;
      const state = document.createElement("span");
      state.className = row.completed ? "state" : "state open";
      text(state, row.completed ? "Completed" : "Open");
      b.append(state, document.createTextNode(row.name));
      b.addEventListener("click", () => showOrder(row.workorderid));
      li.append(b);
      list.append(li);
    }
  }

  async function showOrder(id) {
    current = await Tables.get("workorder", id);
    $("list-screen").hidden = true;
    $("inspect-screen").hidden = false;
    text($("order-name"), current.name);
    text($("order-when"), current.scheduledstart ? "Scheduled " + new Date(current.scheduledstart).toLocaleString() : "Not scheduled");
    text($("order-notes"), current.description || "");
    $("inspection").reset();
    $("done").checked = !!current.completed;
    text($("message"), "");
    // The Offline template's <outpost-file> shows and takes the photo.
    $("photo").setAttribute("row-id", current.workorderid);
  }

  // A photo stored or removed changes the row (its photo column).
  $("photo").addEventListener("stored", (ev) => { current = ev.detail; });

  $("inspection").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const result = new FormData($("inspection")).get("result");
    const notes = $("notes").value.trim();
    const line = "Inspection " + new Date().toISOString().slice(0, 10) + ": " + result + (notes ? " — " + notes : "");
    const msg = $("message");
    try {
      current = await Tables.update("workorder", current.workorderid, {
        description: current.description ? current.description + "\n" + line : line,
        completed: $("done").checked,
      });
      msg.className = "";
      text(msg, "Inspection recorded on this device" + (Outpost.Connection.Sync.startsWith("NotConnected") ? "; it uploads when the connection returns." : "."));
      text($("order-notes"), current.description || "");
    } catch (e) {
      msg.className = "error";
      text(msg, "Not recorded: " + e.message + (e.target ? " (" + e.target + ")" : ""));
    }
  });

  $("back").addEventListener("click", () => showList());
  $("search").addEventListener("input", () => showList());
  Outpost.ready.then(showList);
})();
