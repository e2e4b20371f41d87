export { newUid, uidFromName, isValidUid } from './uid.js';
