// abortError is internal (`@pushprov/protocol/internal`).
export { type AppChannel, BaseAppChannel, type ChannelErrorListener, type MessageListener, type WaitOptions, waitForMessage } from './app-channel.js';
export * from './memory-channel.js';
export * from './url-codec.js';
export * from './origins.js';
