'use strict';
// Editor gestures for the Chromium test, done with the mouse the way a user does them.
// Selectors follow Node-RED 4.1's editor (see conventions §6.1/§6.3); where 5.0's redesigned editor
// differs (the sidebar tab bar), both are handled.

/** Centre of an element's bounding box. */
async function centre(locator) {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`not visible: ${locator}`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

async function dragMouse(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 10, from.y + 5, { steps: 3 });
  await page.mouse.move(to.x, to.y, { steps: 15 });
  await page.mouse.up();
}

/** Drags a palette node onto the canvas at `at` (canvas coordinates); returns the new node's id. */
async function dragFromPalette(page, type, at) {
  const before = await page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n) => n.id), type);
  const paletteNode = page.locator(`.red-ui-palette-node[data-palette-type='${type}']`);
  await paletteNode.scrollIntoViewIfNeeded();
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  await dragMouse(page, await centre(paletteNode), { x: chart.x + at.x, y: chart.y + at.y });
  const added = await page.evaluate(
    ([t, ids]) =>
      RED.nodes
        .filterNodes({ type: t })
        .map((n) => n.id)
        .filter((id) => !ids.includes(id)),
    [type, before],
  );
  if (added.length !== 1) throw new Error(`dragging ${type} onto the canvas added ${added.length} nodes`);
  return added[0];
}

function nodeOnCanvas(page, id) {
  return page.locator(`[id="${id}"]`);
}

async function openNodeEditor(page, id) {
  await nodeOnCanvas(page, id).locator('.red-ui-flow-node').dblclick();
  await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
  // The tray slides in; wait until it stops moving before typing or taking a picture.
  await page.waitForFunction(() => !$('.red-ui-tray').is(':animated'));
  await page.waitForTimeout(300);
}

/** Drags a wire from the output port of `fromId` to the input port of `toId`. */
async function dragWire(page, fromId, toId) {
  const output = nodeOnCanvas(page, fromId).locator('.red-ui-flow-port-output .red-ui-flow-port');
  const input = nodeOnCanvas(page, toId).locator('.red-ui-flow-port-input .red-ui-flow-port');
  await dragMouse(page, await centre(output), await centre(input));
}

/** Clears the selection, as a click on empty workspace does. */
async function clickEmptyCanvas(page) {
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  await page.mouse.click(chart.x + chart.width - 40, chart.y + chart.height - 40);
}

async function deploy(page) {
  await page.click('#red-ui-header-button-deploy');
  await page.waitForFunction(() => !RED.nodes.dirty(), null, { timeout: 20000 });
}

async function pressInject(page, id) {
  await nodeOnCanvas(page, id).locator('.red-ui-flow-node-button').click();
}

async function statusText(page, id) {
  return (await nodeOnCanvas(page, id).locator('.red-ui-flow-node-status-label').textContent()).trim();
}

/**
 * Opens a sidebar tab ('debug', 'help', ...) through its tab button: 4.x has a tab strip (icon buttons
 * `#red-ui-tab-<tab>-link-button` or tabs `#red-ui-tab-<tab>`), 5.x one tab bar of `button[data-tab-id]`.
 * In 5.x a click on the tab already shown hides it, so a selected tab is left as it is. The caller waits
 * for what it wants to see in the tab.
 */
async function showSidebar(page, tab) {
  const button = page.locator(`#red-ui-tab-${tab}-link-button, button[data-tab-id="${tab}"]`).first();
  if (!(await button.count())) {
    await page.click(`#red-ui-tab-${tab} a`);
    return;
  }
  const selected = /\bselected\b/.test((await button.getAttribute('class')) || '');
  if (!selected || !(await button.isVisible())) await button.click();
}

module.exports = { clickEmptyCanvas, dragFromPalette, dragWire, openNodeEditor, deploy, pressInject, statusText, showSidebar };
