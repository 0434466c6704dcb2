/**
 * Device keys: the token service encrypts the access data (the token number)
 * to the device's key, so nothing between the token service and this device
 * can read it. A separate entry, because JWE decryption is the largest part
 * of jose: a wallet that takes the access data in the clear over TLS does not
 * ship it. Pass one of these as `createWallet({ deviceKey })`.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/device-key
 */
export { deviceKeyFromCryptoKey, deviceKeyFromJwk, generatedDeviceKey } from './device-key/device-keys.js';
export type { DeviceKey, SessionDeviceKey } from './wallet/types.js';
