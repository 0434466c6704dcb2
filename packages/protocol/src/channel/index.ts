export * from './app-channel.js';
export * from './memory-channel.js';
export * from './url-codec.js';
export * from './origins.js';
