export { startDashboard, type RunningDashboard } from './start.js';
export { loadDashboardEnv, dashboardEnvSchema, type DashboardEnv } from './env.js';
export { localAuthProvider, type AuthProvider, type SessionIdentity } from './auth.js';
