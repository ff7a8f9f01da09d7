# Turns a JSON file into a C source that defines the file's bytes as a
# NUL-terminated array, so the edge serves docs/openapi.json without
# reading the file at run time. Run as
#   cmake -DIN=<file.json> -DOUT=<file.c> -DSYMBOL=<name> -P embed_json.cmake
# The build fails when IN is not valid JSON.
file(READ "${IN}" text)
string(JSON kind ERROR_VARIABLE json_error TYPE "${text}")
if(json_error)
  message(FATAL_ERROR "${IN} is not valid JSON: ${json_error}")
endif()
if(NOT kind STREQUAL "OBJECT")
  message(FATAL_ERROR "${IN}: the top level must be a JSON object")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Twenty bytes a line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){20})" "\\1\n\t" bytes "${bytes}")
get_filename_component(in_name "${IN}" NAME)
file(WRITE "${OUT}.tmp"
"/* Generated from ${in_name} by embed_json.cmake: do not edit. */\n"
"#include <stddef.h>\n\n"
"extern const unsigned char ${SYMBOL}[];\n"
"extern const size_t ${SYMBOL}_len;\n\n"
"const unsigned char ${SYMBOL}[] = {\n\t${bytes}0x00\n};\n"
"const size_t ${SYMBOL}_len = ${size};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
