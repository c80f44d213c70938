// Uploads: one PUT up to the multipart threshold, else CreateMultipartUpload + UploadPart* +
// CompleteMultipartUpload. A file is read twice (hashed, then sent part by part) so that the
// sha256 metadata, which S3 only accepts when the upload is created, is known up front without
// holding the file in memory. A failed multipart upload is aborted (best effort) so S3 does not
// keep billing for orphaned parts; the bucket's AbortIncompleteMultipartUpload lifecycle rule
// covers a crash. CompleteMultipartUpload may answer 200 and still fail (an <Error> body): that
// is checked and retried like any error.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>

#include "aws/s3_client.h"
#include "aws/s3_errors.h"
#include "aws/xml.h"
#include "common/crypto.h"

namespace outpost::aws {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// sha256 (hex) and size of a file, read in 1 MiB blocks.
Result<std::pair<std::string, std::int64_t>> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  Sha256 hash;
  std::string block(1 << 20, '\0');
  std::int64_t size = 0;
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    hash.Update(std::string_view(block.data(), n));
    size += static_cast<std::int64_t>(n);
  }
  if (in.bad()) return Internal("cannot read " + path);
  return std::pair{hash.HexDigest(), size};
}

Params PutHeaders(const S3PutOptions& options, const std::string& sha256) {
  Params h{{"Content-Type", options.content_type}, {"x-amz-meta-sha256", sha256}};
  for (const auto& [k, v] : options.metadata) {
    if (Lower(k) != "sha256") h.emplace_back("x-amz-meta-" + Lower(k), v);
  }
  return h;
}

}  // namespace

Status S3Client::PutObject(std::string_view bucket, std::string_view key, std::string_view content,
                           const S3PutOptions& options) const {
  std::string sha256 = Sha256Hex(content);
  if (content.size() > options_.multipart_threshold) {
    std::size_t offset = 0;
    PartReader read = [&](std::size_t max) -> Result<std::string> {
      std::string part(content.substr(offset, max));
      offset += part.size();
      return part;
    };
    return PutMultipart(bucket, key, static_cast<std::int64_t>(content.size()), sha256, read,
                        options);
  }
  return Send({"PutObject",
               "PUT",
               std::string(bucket),
               std::string(key),
               {},
               PutHeaders(options, sha256),
               std::string(content)})
      .status();
}

Status S3Client::PutObjectFromFile(std::string_view bucket, std::string_view key,
                                   const std::string& path, const S3PutOptions& options) const {
  OUTPOST_ASSIGN_OR_RETURN(auto hashed, HashFile(path));
  auto [sha256, size] = hashed;
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  PartReader read = [&](std::size_t max) -> Result<std::string> {
    std::string part(max, '\0');
    in.read(part.data(), static_cast<std::streamsize>(max));
    if (in.bad()) return Internal("cannot read " + path);
    part.resize(static_cast<std::size_t>(in.gcount()));
    return part;
  };
  if (static_cast<std::size_t>(size) > options_.multipart_threshold) {
    return PutMultipart(bucket, key, size, sha256, read, options);
  }
  OUTPOST_ASSIGN_OR_RETURN(auto content, read(static_cast<std::size_t>(size)));
  if (static_cast<std::int64_t>(content.size()) != size || Sha256Hex(content) != sha256) {
    return Internal(path + " changed while it was being uploaded");
  }
  return Send({"PutObject",
               "PUT",
               std::string(bucket),
               std::string(key),
               {},
               PutHeaders(options, sha256),
               std::move(content)})
      .status();
}

Status S3Client::PutObjectFromSource(std::string_view bucket, std::string_view key,
                                     ByteSource& source, const S3PutOptions& options) const {
  const std::int64_t size = source.size();
  Sha256 hash;
  for (std::int64_t at = 0; at < size;) {
    auto block = source.ReadAt(at, 1 << 20);
    if (!block.ok()) return block.status();
    if (block->empty()) return Internal(S3Uri(bucket, key) + ": the source shrank while hashing");
    hash.Update(*block);
    at += static_cast<std::int64_t>(block->size());
  }
  const std::string sha256 = hash.HexDigest();
  std::int64_t offset = 0;
  PartReader read = [&](std::size_t max) -> Result<std::string> {
    std::string part;
    while (part.size() < max && offset < size) {
      auto chunk = source.ReadAt(offset, max - part.size());
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) break;
      offset += static_cast<std::int64_t>(chunk->size());
      part += *chunk;
    }
    return part;
  };
  if (static_cast<std::size_t>(size) > options_.multipart_threshold) {
    return PutMultipart(bucket, key, size, sha256, read, options);
  }
  auto content = read(static_cast<std::size_t>(size));
  if (!content.ok()) return content.status();
  if (static_cast<std::int64_t>(content->size()) != size || Sha256Hex(*content) != sha256) {
    return Internal(S3Uri(bucket, key) + ": the source changed while it was being uploaded");
  }
  return Send({"PutObject",
               "PUT",
               std::string(bucket),
               std::string(key),
               {},
               PutHeaders(options, sha256),
               std::move(*content)})
      .status();
}

Status S3Client::PutMultipart(std::string_view bucket, std::string_view key, std::int64_t size,
                              const std::string& sha256, const PartReader& read,
                              const S3PutOptions& options) const {
  OUTPOST_ASSIGN_OR_RETURN(auto created, Send({"CreateMultipartUpload",
                                               "POST",
                                               std::string(bucket),
                                               std::string(key),
                                               {{"uploads", ""}},
                                               PutHeaders(options, sha256),
                                               ""}));
  auto xml = ParseXml(created.body);
  std::string upload_id = xml.ok() ? xml->ChildText("UploadId") : "";
  if (upload_id.empty()) {
    return Internal("S3 CreateMultipartUpload " + S3Uri(bucket, key) + ": no UploadId in " +
                    created.body.substr(0, 200));
  }
  auto completion = UploadParts(bucket, key, upload_id, size, read);
  Status st = completion.status();
  if (st.ok()) {
    st = Send({"CompleteMultipartUpload",
               "POST",
               std::string(bucket),
               std::string(key),
               {{"uploadId", upload_id}},
               {{"Content-Type", "application/xml"}},
               std::move(*completion),
               /*error_in_ok_body=*/true})
             .status();
  }
  if (!st.ok()) {
    // Best effort: the original failure is what the caller needs to see.
    (void)Send({"AbortMultipartUpload",
                "DELETE",
                std::string(bucket),
                std::string(key),
                {{"uploadId", upload_id}},
                {},
                ""});
  }
  return st;
}

// Uploads every part; returns the CompleteMultipartUpload document listing them.
Result<std::string> S3Client::UploadParts(std::string_view bucket, std::string_view key,
                                          const std::string& upload_id, std::int64_t size,
                                          const PartReader& read) const {
  // At most 10,000 parts: grow the part size for very large objects.
  auto part_size = std::max<std::int64_t>(static_cast<std::int64_t>(options_.part_size),
                                          (size + 9'999) / 10'000);
  std::string doc = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  std::int64_t sent = 0;
  for (int number = 1; sent < size; ++number) {
    OUTPOST_ASSIGN_OR_RETURN(auto part,
                             read(static_cast<std::size_t>(std::min(part_size, size - sent))));
    if (part.empty()) return Internal(S3Uri(bucket, key) + ": the source shrank while uploading");
    sent += static_cast<std::int64_t>(part.size());
    OUTPOST_ASSIGN_OR_RETURN(
        auto r, Send({"UploadPart",
                      "PUT",
                      std::string(bucket),
                      std::string(key),
                      {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                      {},
                      std::move(part)}));
    std::string etag = r.Header("ETag");
    if (etag.empty()) return Internal("S3 UploadPart " + S3Uri(bucket, key) + ": no ETag");
    doc += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + XmlEscape(etag) +
           "</ETag></Part>";
  }
  return doc + "</CompleteMultipartUpload>";
}

}  // namespace outpost::aws
