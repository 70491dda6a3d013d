/**
 * The parts of a record that the device protocols (Ruptela, Teltonika) both
 * decode: where the device was, and a fixed-size IO value.
 *
 * @module
 */

/** Where a device was when it made a record (missing fields encode as 0). */
export interface DevicePosition {
  /** Degrees (i32 in units of 1e-7). */
  longitude: number;
  /** Degrees (i32 in units of 1e-7). */
  latitude: number;
  /** Metres (Ruptela: u16 in decimetres; Teltonika: i16). */
  altitude: number;
  /** Degrees from north (Ruptela: u16 in hundredths; Teltonika: u16). */
  angle: number;
  /** Satellites in view, or in use (u8). */
  satellites: number;
  /** km/h (u16). */
  speed: number;
}

/** One IO value of a device record, of a fixed size. */
export interface DeviceIoValue {
  /** The IO id (1 byte, or 2 in Ruptela's command 68 and Teltonika's 8E). */
  id: number;
  /** Its size in bytes: 1, 2, 4 or 8. */
  size: 1 | 2 | 4 | 8;
  /** Its value, unsigned; 8-byte values past 2^53 are decimal strings. */
  value: number | string;
}
