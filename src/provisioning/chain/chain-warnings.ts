/** The warnings of the chain path about the name GridLinks gives the device (protocol-more.md §1). */

export function escapedCnWarning(commonName: string, cnValue: string): string {
  return `GridLinks reads the certificate CN "${commonName}" as an RFC 4514 value, "${cnValue}" (it backslash-escapes , " \\ + = < > ; a leading # and leading or trailing spaces), and names the device from that: the device name is not the CN as written. Choose a CN without those characters if the device should be called "${commonName}".`;
}

export function randomNameWarning(commonName: string, pattern: string): string {
  return `The pattern ${pattern} leaves group 1 empty (or has none) for the CN "${commonName}": GridLinks then creates the device under a random 20-character name, which nothing here can know (the result's deviceName is null; find the device by its certificate). Change the CN or the pattern so that group 1 is the device name.`;
}
