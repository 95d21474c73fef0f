'use strict';
/** Table 9: the bare mqtt.js clients by device name, shared with the bench-bare-publish node in the embedded Node-RED. */
module.exports = { clientsByDeviceName: new Map() };
