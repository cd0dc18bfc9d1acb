// Before asking Dawn for an adapter on Linux, nn-train looks for the Vulkan loader itself: without it
// Dawn prints a warning of its own (two lines, one a C++ source location) and finds nothing, and a
// user is owed one line. sharedLibraryFound asks the dynamic linker as Dawn's dlopen would.
import { describe, expect, it } from 'vitest';
import { sharedLibraryFound } from '../src/core/gpu/adapter.ts';

describe.runIf(process.platform === 'linux')('sharedLibraryFound', () => {
  it('finds a library every Linux process has loaded (the C library)', () => {
    expect(sharedLibraryFound('libc.so.6')).toBe(true);
  });

  it('does not find one that does not exist, by bare name or by path', () => {
    expect(sharedLibraryFound('libnn-train-no-such-library.so.1')).toBe(false);
    expect(sharedLibraryFound('/nonexistent/libvulkan.so.1')).toBe(false);
  });
});
