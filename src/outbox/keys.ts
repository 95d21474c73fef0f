/**
 * The layout of the database (lmdb, ordered-binary keys: arrays compare element by element, numbers
 * before strings). Records are found per device in order; the order index finds the oldest of all.
 *
 *   ['r', deviceKey, id] → StoredRecord        a record, ids increase in append order
 *   ['o', id]            → [deviceKey, bytes, at]   every record once, oldest first (drops, expiry)
 *   ['m', deviceKey]     → DeviceTotals         waiting records and their bytes, per device
 *   ['t']                → DeviceTotals         the same for the whole folder
 *   ['n']                → next id              allocated inside the write transaction (safe across processes)
 */
export type RecordKey = ['r', string, number];
export type OrderKey = ['o', number];
export type OrderValue = [deviceKey: string, bytes: number, at: number];

export interface DeviceTotals {
  count: number;
  bytes: number;
}

export const NEXT_ID_KEY = ['n'];
export const TOTAL_KEY = ['t'];

export const recordKey = (deviceKey: string, id: number): RecordKey => ['r', deviceKey, id];
export const orderKey = (id: number): OrderKey => ['o', id];
export const totalsKey = (deviceKey: string): ['m', string] => ['m', deviceKey];

/** getRange bounds of one device's records, oldest first. */
export const deviceRange = (deviceKey: string, limit?: number) => ({ start: ['r', deviceKey, 0], end: ['r', deviceKey, Infinity], limit });
/** Fresh objects every time: lmdb's getRange keeps state in the options it is given. */
export const orderRange = (limit?: number) => ({ start: ['o', 0], end: ['o', Infinity], limit });
export const totalsRange = () => ({ start: ['m', ''], end: ['m', '\uffff'] });
