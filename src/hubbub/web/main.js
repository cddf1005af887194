// The web client's entry point: the page's script (no inline script: the server's
// Content-Security-Policy allows none).

import { App } from "./ui/app.js";

const app = new App(window.location, window.localStorage, window.sessionStorage);
app.start();
// For tests and the curious: the running app, read-only by convention.
window.hubbub = app;
