import type { NestExpressApplication } from '@nestjs/platform-express';

export interface RegisteredRoute {
  method: string;
  path: string;
}

/** Every route the Nest app registered on its Express router, as `METHOD /path/:param`. */
export function registeredRoutes(app: NestExpressApplication): RegisteredRoute[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: unknown[] }; _router?: { stack: unknown[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const routes: RegisteredRoute[] = [];
  for (const layer of stack as { route?: { path: string | string[]; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') routes.push({ method: method.toUpperCase(), path });
    }
  }
  return routes;
}

/** `/v1/…` routes with a path parameter: the ones that name a resource. */
export function parameterisedRoutes(app: NestExpressApplication): RegisteredRoute[] {
  const seen = new Set<string>();
  return registeredRoutes(app)
    .filter((r) => r.path.startsWith('/v1/') && r.path.includes('/:'))
    .filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
