// The container's health check: alive (/health) and able to serve (/ready) on this process's port.
// Exit code 0 when both answer 200 within two seconds; 1 otherwise.
const base = `http://127.0.0.1:${process.env.PORT ?? 4000}`;
const ok = async (path) => (await fetch(base + path, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.ok === true;
process.exit((await ok('/health')) && (await ok('/ready')) ? 0 : 1);
