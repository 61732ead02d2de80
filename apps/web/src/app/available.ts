/**
 * Which consoles have their API endpoints yet. A console whose endpoints do not exist is left out
 * of the nav and the routes rather than shipped as a dead screen.
 */
export const AVAILABLE = {
  estimates: true,
  jobs: true,
  datasets: true,
  billing: true,
  disputes: true,
  offers: true,
  earnings: true,
  adminDisputes: true,
  adminUsers: true,
  adminNodes: true,
  adminModeration: true,
  adminAudit: true,
} as const;
