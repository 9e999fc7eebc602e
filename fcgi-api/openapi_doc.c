/*
 * openapi_doc.c - the OpenAPI document (fcgi-api/openapi.json) linked into
 * the binary, so the API serves exactly the document it was built with.
 */

__asm__(
    "	.section .rodata\n"
    "	.global api_openapi_start\n"
    "	.global api_openapi_end\n"
    "	.balign 16\n"
    "api_openapi_start:\n"
    "	.incbin \"fcgi-api/openapi.json\"\n"
    "api_openapi_end:\n"
    "	.byte 0\n"
    "	.previous\n");
