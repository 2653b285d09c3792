/** The detectors read outcomes through the one definition in core (core/event-outcome.ts). */
export { isAuthFailure, isRequestFailure } from '../core/event-outcome.js';
