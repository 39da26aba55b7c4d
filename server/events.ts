/** The reactor's view of the event log; the log itself is in server/events/ (see event.ts). */
export * from "./events/event.ts";
