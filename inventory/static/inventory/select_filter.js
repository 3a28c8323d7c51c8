// A list filter drawn as a drop-down (templates/admin/inventory/select_filter.html):
// choosing an option follows its link. A static file, not an inline handler: the CSP allows no inline script.
"use strict";
document.addEventListener("change", (event) => {
  const select = event.target.closest("select.inventory-select-filter");
  if (select) {
    window.location.href = select.value;
  }
});
