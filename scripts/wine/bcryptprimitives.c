/* bcryptprimitives.dll for Wine 8, which lacks it: every Windows binary built by Rust 1.78 or later imports
 * ProcessPrng from it (the standard library's source of random bytes), so without it no such .exe starts
 * under Debian's Wine. This DLL implements ProcessPrng with BCryptGenRandom, which Wine has, and goes into
 * the release check's own Wine prefix only (tests/e2e/release.rs); it is never shipped.
 * Built by `make cross-tools` with zig's mingw-w64 target: zig cc -target x86_64-windows-gnu -shared. */
#include <windows.h>
#include <bcrypt.h>

/* Fills data with len random bytes; as on Windows, it does not fail for a valid buffer. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
