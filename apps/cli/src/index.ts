export { runDemo, formatSummary, type DemoSummary, type DemoOptions } from './demo.js';
