// Feeds arbitrary bytes to every CAPF decoder: frame, header, element accessors,
// certificate wrapper, SHA2 and SUDI blocks. Any crash, leak or UB is a bug.

#include "capf/codec.h"
#include "capf/frame_channel.h"
#include "capf/memory_stream.h"

#include <cstddef>
#include <cstdint>

using namespace lscgate;
using namespace lscgate::capf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView input(data, size);
    auto frame = decode_frame(input);
    if (frame) {
        for (std::uint8_t tag = 0; tag < 24; ++tag) {
            const auto t = static_cast<Tag>(tag);
            (void)frame->u8(t);
            (void)frame->u16(t);
            (void)frame->text(t);
        }
        if (const Bytes* v = frame->find(Tag::Certificate)) (void)unwrap_certificate(*v);
        if (const Bytes* v = frame->find(Tag::Sha2SignedData)) (void)decode_hashed_signature(*v);
        if (const Bytes* v = frame->find(Tag::SudiData)) (void)decode_sudi(*v);
        // What decodes must re-encode to the same bytes.
        auto again = encode(*frame);
        if (!again || *again != Bytes(input.begin(), input.end())) __builtin_trap();
    }
    (void)unwrap_certificate(input);
    (void)decode_hashed_signature(input);
    (void)decode_sudi(input);

    // The same bytes through the stream reader, delivered in uneven chunks.
    MemoryStream stream;
    for (std::size_t pos = 0, step = 1; pos < size; pos += step, step = step * 2 + 1)
        stream.push(input.subspan(pos, std::min(step, size - pos)));
    FrameChannel channel(stream);
    for (int i = 0; i < 8; ++i)
        if (channel.receive(std::chrono::milliseconds(10)).status != ReceiveStatus::Ok) break;
    return 0;
}
